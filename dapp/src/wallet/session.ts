// The connected wallet: its account and chain, followed through `accountsChanged` and
// `chainChanged`; switching (or adding) the deployment's chain.
import { getAddress, numberToHex } from "viem";
import type { Deployment } from "../types";
import type { Eip1193Provider, WalletOption } from "./discovery";

const REMEMBERED = "greenpoints.wallet";

export interface ProviderError {
  code?: number;
  message?: string;
  data?: { originalError?: { code?: number } };
}

export function errorCode(exc: unknown): number | undefined {
  const err = exc as ProviderError;
  return err?.data?.originalError?.code ?? err?.code;
}

export class WalletSession {
  option: WalletOption | null = null;
  account: `0x${string}` | null = null;
  chainId: number | null = null;
  private listeners: (() => void)[] = [];
  private detach: (() => void) | null = null;

  constructor(readonly deployment: Deployment) {}

  get provider(): Eip1193Provider | null {
    return this.option?.provider ?? null;
  }

  get connected(): boolean {
    return this.option !== null && this.account !== null;
  }

  get onRightChain(): boolean {
    return this.chainId === this.deployment.chain_id;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Ask the wallet for its accounts (opens the wallet); throws what the wallet threw. */
  async connect(option: WalletOption): Promise<void> {
    const accounts = (await option.provider.request({ method: "eth_requestAccounts" })) as string[];
    await this.attach(option, accounts);
    try {
      window.localStorage.setItem(REMEMBERED, option.info.rdns);
    } catch {
      // not remembered
    }
  }

  /** Reconnect silently to the wallet chosen last time, if it still grants an account. */
  async resume(wallets: WalletOption[]): Promise<void> {
    if (this.option) return;
    let rdns: string | null = null;
    try {
      rdns = window.localStorage.getItem(REMEMBERED);
    } catch {
      return;
    }
    const option = wallets.find((w) => w.info.rdns === rdns);
    if (!option) return;
    try {
      const accounts = (await option.provider.request({ method: "eth_accounts" })) as string[];
      if (accounts.length > 0) await this.attach(option, accounts);
    } catch {
      // the wallet refused a silent reconnect: the user connects again
    }
  }

  disconnect(): void {
    this.detach?.();
    this.detach = null;
    this.option = null;
    this.account = null;
    this.chainId = null;
    try {
      window.localStorage.removeItem(REMEMBERED);
    } catch {
      // nothing remembered
    }
    this.notify();
  }

  private async attach(option: WalletOption, accounts: string[]): Promise<void> {
    this.detach?.();
    this.option = option;
    this.account = accounts[0] ? getAddress(accounts[0]) : null;
    this.chainId = Number(await option.provider.request({ method: "eth_chainId" }));
    const onAccounts = (next: string[]) => {
      this.account = next[0] ? getAddress(next[0]) : null;
      this.notify();
    };
    const onChain = (next: string) => {
      this.chainId = Number(next);
      this.notify();
    };
    option.provider.on?.("accountsChanged", onAccounts as never);
    option.provider.on?.("chainChanged", onChain as never);
    this.detach = () => {
      option.provider.removeListener?.("accountsChanged", onAccounts as never);
      option.provider.removeListener?.("chainChanged", onChain as never);
    };
    this.notify();
  }

  /** `wallet_switchEthereumChain`; when the wallet does not know the chain, `wallet_addEthereumChain`. */
  async switchChain(): Promise<void> {
    const provider = this.provider;
    if (!provider) return;
    const chainId = numberToHex(this.deployment.chain_id);
    try {
      await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (exc) {
      if (errorCode(exc) !== 4902) throw exc;
      if (!this.deployment.rpc_url) throw new MissingRpcUrl();
      await provider.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId,
            chainName: chainName(this.deployment.chain_id),
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
            rpcUrls: [this.deployment.rpc_url],
            blockExplorerUrls: this.deployment.explorer_url ? [this.deployment.explorer_url] : undefined,
          },
        ],
      });
    }
    // Some wallets switch without emitting chainChanged: read the chain again.
    this.chainId = Number(await provider.request({ method: "eth_chainId" }));
    this.notify();
  }
}

export class MissingRpcUrl extends Error {
  constructor() {
    super("the API publishes no RPC URL for wallets");
  }
}

export function chainName(chainId: number): string {
  return chainId === 31337 || chainId === 1337 ? `Green Points local chain (${chainId})` : `Chain ${chainId}`;
}
