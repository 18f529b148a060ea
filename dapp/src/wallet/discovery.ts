// Wallet discovery: every wallet that announces itself by EIP-6963, and `window.ethereum`
// (EIP-1193) when none does.

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (...args: never[]) => void): void;
  removeListener?(event: string, listener: (...args: never[]) => void): void;
}

export interface WalletInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

export interface WalletOption {
  info: WalletInfo;
  provider: Eip1193Provider;
}

interface AnnounceEvent extends Event {
  detail: WalletOption;
}

export const INJECTED_RDNS = "injected";
// How long to wait for EIP-6963 announcements before offering window.ethereum instead.
const FALLBACK_AFTER_MS = 250;

export function discoverWallets(onChange: (wallets: WalletOption[]) => void): void {
  const announced = new Map<string, WalletOption>();
  let fallback: WalletOption | null = null;
  const publish = () => onChange(announced.size > 0 ? [...announced.values()] : fallback ? [fallback] : []);

  window.addEventListener("eip6963:announceProvider", (event) => {
    const detail = (event as AnnounceEvent).detail;
    if (!detail?.info?.uuid || typeof detail.provider?.request !== "function") return;
    announced.set(detail.info.uuid, { info: detail.info, provider: detail.provider });
    publish();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  window.setTimeout(() => {
    const injected = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
    if (injected && typeof injected.request === "function") {
      fallback = { info: { uuid: INJECTED_RDNS, name: "", icon: "", rdns: INJECTED_RDNS }, provider: injected };
    }
    publish();
  }, FALLBACK_AFTER_MS);
}
