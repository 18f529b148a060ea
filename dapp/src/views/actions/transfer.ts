// Transfer (转赠): the recipient checked (EIP-55 for mixed case; the pool and the token refuse
// points), a preview, then the token's `transfer`.
import { getAddress, isAddress, zeroAddress } from "viem";
import type { App } from "../../app";
import { t } from "../../i18n";
import { runTx } from "../../tx";
import { h } from "../../ui/dom";
import { caption, field, figure, figures, notice, pointsFigure, pointsText, textInput } from "../../ui/parts";
import { parseAmount, POINT_DECIMALS } from "../../units";
import { amountError, PreviewBox, walletProblem } from "./common";

export type RecipientCheck =
  | { ok: true; address: `0x${string}`; unchecked: boolean }
  | { ok: false; error: "empty" | "format" | "checksum" | "zero" | "pool" | "token" };

/** A recipient as typed: all lower or all upper case has no checksum to check; mixed case must be EIP-55. */
export function checkRecipient(text: string, pool: string, token: string): RecipientCheck {
  const value = text.trim();
  if (value === "") return { ok: false, error: "empty" };
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return { ok: false, error: "format" };
  const body = value.slice(2);
  const oneCase = body === body.toLowerCase() || body === body.toUpperCase();
  if (!oneCase && !isAddress(value, { strict: true })) return { ok: false, error: "checksum" };
  const address = getAddress(value.toLowerCase());
  if (address === zeroAddress) return { ok: false, error: "zero" };
  if (address === getAddress(pool)) return { ok: false, error: "pool" };
  if (address === getAddress(token)) return { ok: false, error: "token" };
  return { ok: true, address, unchecked: oneCase };
}

export class TransferForm {
  to = "";
  amount = "";
  private pending: { to: `0x${string}`; points: bigint; unchecked: boolean } | null = null;
  private preview: PreviewBox | null = null;
  private setToError: (text: string | null) => void = () => {};
  private setAmountError: (text: string | null) => void = () => {};
  private sending = false;
  private inputs: HTMLInputElement[] = [];

  constructor(
    private readonly app: App,
    private readonly balance: () => bigint | null,
    private readonly onDone: () => void,
  ) {}

  render(): HTMLElement {
    const to = textInput("transfer-to", this.to, { "data-testid": "transfer-to", placeholder: "0x…" });
    to.addEventListener("input", () => {
      this.to = to.value;
      this.close();
    });
    const amount = textInput("transfer-amount", this.amount, { inputmode: "decimal", "data-testid": "transfer-amount" });
    amount.addEventListener("input", () => {
      this.amount = amount.value;
      this.close();
    });
    this.inputs = [to, amount];
    const toField = field({ label: t("transfer.to"), hint: t("transfer.toHint"), input: to });
    const amountField = field({ label: t("transfer.amount"), input: amount });
    this.setToError = toField.setError;
    this.setAmountError = amountField.setError;
    this.preview = new PreviewBox("transfer", () => void this.confirm(), () => this.close());
    const form = h(
      "form",
      { class: "action", "data-testid": "transfer-form", novalidate: true },
      h("p", { class: "lead" }, t("transfer.lead")),
      toField.el,
      amountField.el,
      h("div", { class: "buttons" }, h("button", { type: "submit", "data-testid": "transfer-preview-button" }, t("form.preview"))),
      this.preview.el,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.open(to, amount);
    });
    return form;
  }

  private close(): void {
    this.pending = null;
    this.preview?.hide();
  }

  private open(toInput: HTMLInputElement, amountInput: HTMLInputElement): void {
    const preview = this.preview;
    if (!preview) return;
    preview.status.clear();
    const recipient = checkRecipient(this.to, this.app.deployment.pool, this.app.deployment.points_token);
    this.setToError(recipient.ok ? null : t(`transfer.error.${recipient.error}`));
    const parsed = parseAmount(this.amount, POINT_DECIMALS);
    let amountProblem = amountError(parsed, POINT_DECIMALS);
    const balance = this.balance();
    if (parsed.ok && balance !== null && parsed.value > balance) {
      amountProblem = t("form.tooFewPoints", { balance: pointsText(balance), requested: pointsText(parsed.value) });
    }
    this.setAmountError(amountProblem);
    if (!recipient.ok) {
      toInput.focus();
      return;
    }
    if (amountProblem || !parsed.ok) {
      amountInput.focus();
      return;
    }
    this.pending = { to: recipient.address, points: parsed.value, unchecked: recipient.unchecked };
    const self = this.app.session.account !== null && recipient.address === this.app.session.account;
    preview.show(
      figures(
        figure(t("transfer.recipient"), recipient.address, { testid: "transfer-preview-to" }),
        pointsFigure(t("transfer.send"), parsed.value, "transfer-preview-points"),
        balance !== null ? pointsFigure(t("transfer.keep"), balance - parsed.value, "transfer-preview-keep") : null,
      ),
      recipient.unchecked ? notice("warn", t("transfer.uncheckedWarning")) : "",
      self ? notice("warn", t("transfer.selfWarning")) : "",
      caption(t("transfer.finalNote")),
    );
  }

  private async confirm(): Promise<void> {
    const pending = this.pending;
    const preview = this.preview;
    if (!pending || !preview || this.sending) return;
    const problem = walletProblem(this.app);
    if (problem) {
      preview.status.show("error", problem);
      return;
    }
    const account = this.app.session.account;
    this.sending = true;
    preview.busy(true);
    const receipt = await runTx(
      this.app,
      preview.status,
      async () => {
        const reader = this.app.chain.reader();
        const writer = this.app.chain.writer();
        if (!reader || !writer || !account) throw new Error(t("form.connectFirst"));
        const { request } = await reader.client.simulateContract({
          ...this.app.contracts.points,
          functionName: "transfer",
          args: [pending.to, pending.points],
          account,
        });
        return writer.writeContract(request);
      },
      POINT_DECIMALS,
    );
    this.sending = false;
    preview.busy(false);
    if (receipt) {
      this.to = "";
      this.amount = "";
      for (const input of this.inputs) input.value = "";
      this.pending = null;
      preview.hide();
      this.onDone();
    }
  }
}
