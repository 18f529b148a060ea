// Shared parts of the action forms: the wallet precondition, the amount field's errors, and the
// preview → confirm → transaction flow.
import type { App } from "../../app";
import { t } from "../../i18n";
import { TxStatus } from "../../tx";
import { h, fill } from "../../ui/dom";
import { parseAmount } from "../../units";

/** Why the wallet cannot sign now (no wallet, wrong chain), or null when it can. */
export function walletProblem(app: App): string | null {
  if (!app.session.connected) return t("form.connectFirst");
  if (!app.session.onRightChain) {
    return t("error.wrongChain", { have: String(app.session.chainId ?? "?"), want: String(app.deployment.chain_id) });
  }
  return null;
}

export function amountError(result: ReturnType<typeof parseAmount>, decimals: number): string | null {
  if (result.ok) return null;
  switch (result.error) {
    case "empty":
      return t("form.amountEmpty");
    case "format":
      return t("form.amountFormat");
    case "decimals":
      return t("form.amountDecimals", { decimals });
    case "zero":
      return t("form.amountZero");
  }
}

/** The preview box with its Confirm and Cancel buttons, and the transaction status under it. */
export class PreviewBox {
  readonly el: HTMLElement;
  readonly body: HTMLElement;
  readonly status = new TxStatus();
  readonly confirm: HTMLButtonElement;
  readonly cancel: HTMLButtonElement;
  private readonly box: HTMLElement;

  constructor(
    readonly name: string,
    onConfirm: () => void,
    onCancel: () => void,
  ) {
    this.body = h("div", { class: "preview-body" });
    this.confirm = h(
      "button",
      { type: "button", class: "primary", "data-testid": `${name}-confirm`, "on:click": () => onConfirm() },
      t("form.confirm"),
    );
    this.cancel = h(
      "button",
      { type: "button", "data-testid": `${name}-cancel`, "on:click": () => onCancel() },
      t("form.cancel"),
    );
    this.box = h(
      "div",
      { class: "preview", "data-testid": `${name}-preview`, hidden: true, "aria-label": t("form.previewLabel") },
      this.body,
      h("div", { class: "buttons" }, this.confirm, this.cancel),
    );
    this.el = h("div", {}, this.box, this.status.el);
  }

  show(...children: (Node | string)[]): void {
    fill(this.body, ...children);
    this.box.hidden = false;
  }

  hide(): void {
    this.box.hidden = true;
    fill(this.body);
  }

  get open(): boolean {
    return !this.box.hidden;
  }

  busy(on: boolean): void {
    this.confirm.disabled = on;
    this.cancel.disabled = on;
  }
}
