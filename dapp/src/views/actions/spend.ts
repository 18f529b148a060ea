// Spend (消费抵扣) at a merchant from the API's list, for an order reference (its on-chain id is
// keccak256 of the reference's UTF-8 bytes): preview, then the pool's `spend`.
import type { App } from "../../app";
import { describeError } from "../../errors";
import { locale, t } from "../../i18n";
import { orderId, orderRefProblem } from "../../orders";
import { runTx } from "../../tx";
import type { Merchant } from "../../types";
import { fill, h } from "../../ui/dom";
import {
  assetFigure,
  caption,
  field,
  figure,
  figures,
  notice,
  pointsFigure,
  pointsText,
  shortAddress,
  textInput,
} from "../../ui/parts";
import { faceValue, formatBps, parseAmount, POINT_DECIMALS } from "../../units";
import { amountError, PreviewBox, walletProblem } from "./common";

export class SpendForm {
  merchant = "";
  amount = "";
  orderRef = "";
  private pending: { merchant: `0x${string}`; points: bigint; orderId: `0x${string}` } | null = null;
  private preview: PreviewBox | null = null;
  private errors: Record<"merchant" | "amount" | "ref", (text: string | null) => void> = {
    merchant: () => {},
    amount: () => {},
    ref: () => {},
  };
  private inputs: HTMLInputElement[] = [];
  private sending = false;

  constructor(
    private readonly app: App,
    private readonly balance: () => bigint | null,
    private readonly merchants: () => Merchant[] | null,
    private readonly paused: () => boolean | null,
    private readonly onDone: () => void,
  ) {}

  private select: HTMLSelectElement | null = null;
  private notices: HTMLElement | null = null;

  /** The merchant list and the pause notice, updated in place (never rebuilding the inputs). */
  update(): void {
    const select = this.select;
    if (select) {
      const active = (this.merchants() ?? []).filter((m) => m.active);
      select.replaceChildren(
        h("option", { value: "" }, t("spend.chooseMerchant")),
        ...active.map((m) =>
          h(
            "option",
            { value: m.address, selected: m.address === this.merchant },
            `${shortAddress(m.address)} · ${t("spend.rate", { rate: formatBps(m.rate_bps, locale()) })}`,
          ),
        ),
      );
      if (!active.some((m) => m.address === this.merchant)) this.merchant = "";
      select.value = this.merchant;
    }
    if (this.notices) {
      fill(
        this.notices,
        this.paused() ? notice("warn", t("error.EnforcedPause"), "spend-paused") : null,
        this.merchants() === null ? notice("warn", t("spend.noMerchantList")) : null,
      );
    }
  }

  render(): HTMLElement {
    const select = h("select", { name: "spend-merchant", "data-testid": "spend-merchant" });
    this.select = select;
    this.notices = h("div", {});
    select.addEventListener("change", () => {
      this.merchant = select.value;
      this.close();
    });
    const amount = textInput("spend-amount", this.amount, { inputmode: "decimal", "data-testid": "spend-amount" });
    amount.addEventListener("input", () => {
      this.amount = amount.value;
      this.close();
    });
    const ref = textInput("spend-order", this.orderRef, { "data-testid": "spend-order", maxlength: "256" });
    ref.addEventListener("input", () => {
      this.orderRef = ref.value;
      this.close();
    });
    this.inputs = [amount, ref];
    const merchantField = field({ label: t("spend.merchant"), input: select });
    const amountField = field({ label: t("spend.amount"), input: amount });
    const refField = field({ label: t("spend.orderRef"), hint: t("spend.orderRefHint"), input: ref });
    this.errors = { merchant: merchantField.setError, amount: amountField.setError, ref: refField.setError };
    this.preview = new PreviewBox("spend", () => void this.confirm(), () => this.close());
    const form = h(
      "form",
      { class: "action", "data-testid": "spend-form", novalidate: true },
      h("p", { class: "lead" }, t("spend.lead")),
      this.notices,
      merchantField.el,
      amountField.el,
      refField.el,
      h("div", { class: "buttons" }, h("button", { type: "submit", "data-testid": "spend-preview-button" }, t("form.preview"))),
      this.preview.el,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.open(select, amount, ref);
    });
    this.update();
    return form;
  }

  private close(): void {
    this.pending = null;
    this.preview?.hide();
  }

  private async open(select: HTMLSelectElement, amountInput: HTMLInputElement, refInput: HTMLInputElement): Promise<void> {
    const preview = this.preview;
    if (!preview) return;
    preview.status.clear();
    const merchant = (this.merchants() ?? []).find((m) => m.address === this.merchant && m.active);
    this.errors.merchant(merchant ? null : t("spend.error.merchant"));
    const parsed = parseAmount(this.amount, POINT_DECIMALS);
    let amountProblem = amountError(parsed, POINT_DECIMALS);
    const balance = this.balance();
    if (parsed.ok && balance !== null && parsed.value > balance) {
      amountProblem = t("form.tooFewPoints", { balance: pointsText(balance), requested: pointsText(parsed.value) });
    }
    this.errors.amount(amountProblem);
    const refProblem = orderRefProblem(this.orderRef);
    this.errors.ref(refProblem ? t(`order.error.${refProblem}`) : null);
    if (!merchant) return select.focus();
    if (amountProblem || !parsed.ok) return amountInput.focus();
    if (refProblem) return refInput.focus();
    if (this.paused()) {
      preview.status.show("error", t("error.EnforcedPause"));
      return;
    }
    const id = orderId(this.orderRef);
    const account = this.app.session.account;
    const reader = this.app.chain.reader();
    if (reader && account) {
      try {
        const spent = await reader.client.readContract({
          ...this.app.contracts.pool,
          functionName: "spentPoints",
          args: [merchant.address, account, id],
        });
        if (spent > 0n) {
          this.errors.ref(t("spend.error.used", { points: pointsText(spent) }));
          return refInput.focus();
        }
      } catch (exc) {
        preview.status.show("error", describeError(exc, this.app.errorContext()));
        return;
      }
    }
    this.pending = { merchant: merchant.address, points: parsed.value, orderId: id };
    const decimals = this.app.deployment.asset_decimals;
    preview.show(
      figures(
        figure(t("spend.merchant"), merchant.address, { testid: "spend-preview-merchant" }),
        pointsFigure(t("spend.burn"), parsed.value, "spend-preview-points"),
        assetFigure(t("spend.discount"), faceValue(parsed.value, decimals), decimals, this.app.assetSymbol, "spend-preview-discount"),
        figure(t("spend.orderId"), id, { testid: "spend-preview-order-id" }),
      ),
      caption(t("spend.note")),
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
    const receipt = await runTx(this.app, preview.status, async () => {
      const reader = this.app.chain.reader();
      const writer = this.app.chain.writer();
      if (!reader || !writer || !account) throw new Error(t("form.connectFirst"));
      const { request } = await reader.client.simulateContract({
        ...this.app.contracts.pool,
        functionName: "spend",
        args: [pending.merchant, pending.points, pending.orderId],
        account,
      });
      return writer.writeContract(request);
    });
    this.sending = false;
    preview.busy(false);
    if (receipt) {
      this.amount = "";
      this.orderRef = "";
      for (const input of this.inputs) input.value = "";
      this.pending = null;
      preview.hide();
      this.onDone();
    }
  }
}
