// A transaction's life as the page shows it: waiting for the wallet → pending (hash) → mined
// (block) → visible in the mirror (the API's indexed block reached it), or the words for what failed.
import type { Hex, TransactionReceipt } from "viem";
import type { App } from "./app";
import { describeError } from "./errors";
import { t } from "./i18n";
import { h, fill } from "./ui/dom";

export class TxStatus {
  readonly el: HTMLElement;

  constructor() {
    this.el = h("div", { class: "tx-status", role: "status", "aria-live": "polite" });
  }

  show(kind: "info" | "ok" | "error", text: string, hash?: Hex, explorer?: string | null): void {
    this.el.className = `tx-status ${kind}`;
    const link =
      hash && explorer
        ? h("a", { href: `${explorer.replace(/\/$/, "")}/tx/${hash}`, rel: "noopener noreferrer" }, shortHash(hash))
        : hash
          ? h("code", {}, shortHash(hash))
          : null;
    fill(this.el, h("span", { class: "tx-text" }, text), link ? " " : null, link);
    this.el.dataset.kind = kind;
  }

  clear(): void {
    this.el.className = "tx-status";
    delete this.el.dataset.kind;
    fill(this.el);
  }
}

/** Why a mined transaction reverted: the same call replayed on the state before its block (the
 * way a wallet that estimated gas early lets it be mined and fail, e.g. after the price moved). */
async function revertReason(
  app: App,
  hash: Hex,
  receipt: TransactionReceipt,
  tokenDecimals?: number,
): Promise<string | null> {
  const reader = app.chain.reader();
  if (!reader) return null;
  try {
    const tx = await reader.client.getTransaction({ hash });
    await reader.client.call({
      account: tx.from,
      to: tx.to ?? undefined,
      data: tx.input,
      value: tx.value,
      blockNumber: receipt.blockNumber - 1n,
    });
    return null;
  } catch (exc) {
    return describeError(exc, app.errorContext(tokenDecimals));
  }
}

export function shortHash(hash: string): string {
  return `${hash.slice(0, 10)}…${hash.slice(-6)}`;
}

/** Send through `send` and follow it to the mirror; the receipt, or null when it failed (shown). */
export async function runTx(
  app: App,
  status: TxStatus,
  send: () => Promise<Hex>,
  tokenDecimals?: number,
): Promise<TransactionReceipt | null> {
  const explorer = app.deployment.explorer_url;
  status.show("info", t("tx.wallet"));
  let hash: Hex;
  try {
    hash = await send();
  } catch (exc) {
    status.show("error", `${describeError(exc, app.errorContext(tokenDecimals))} ${t("tx.nothingSent")}`);
    return null;
  }
  status.show("info", t("tx.pending"), hash, explorer);
  const reader = app.chain.reader();
  if (!reader) {
    status.show("error", t("error.noReader"), hash, explorer);
    return null;
  }
  let receipt: TransactionReceipt;
  try {
    receipt = await reader.client.waitForTransactionReceipt({ hash, pollingInterval: 300, timeout: 120_000 });
  } catch (exc) {
    status.show("error", describeError(exc, app.errorContext(tokenDecimals)), hash, explorer);
    return null;
  }
  if (receipt.status !== "success") {
    const reason = await revertReason(app, hash, receipt, tokenDecimals);
    const block = receipt.blockNumber.toString();
    status.show("error", reason ? t("tx.revertedBecause", { block, reason }) : t("tx.reverted", { block }), hash, explorer);
    void app.poll();
    return null;
  }
  status.show("info", t("tx.mined", { block: receipt.blockNumber.toString() }), hash, explorer);
  const indexed = await app.waitIndexed(receipt.blockNumber);
  if (indexed) {
    status.show("ok", t("tx.indexed", { block: receipt.blockNumber.toString() }), hash, explorer);
  } else {
    status.show("info", t("tx.notIndexed", { block: receipt.blockNumber.toString() }), hash, explorer);
  }
  return receipt;
}
