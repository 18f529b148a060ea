// Redeem: the live quote (payout, tax, kept in the pool) before the wallet opens, and a slippage
// tolerance that sets `minPayout` from the quote the user confirms.
import type { App } from "../../app";
import { describeError } from "../../errors";
import { locale, t } from "../../i18n";
import { runTx } from "../../tx";
import { h } from "../../ui/dom";
import { assetFigure, caption, field, figure, figures, pointsFigure, pointsText, textInput } from "../../ui/parts";
import { BPS, exactUnits, formatBps, parseAmount, POINT_DECIMALS } from "../../units";
import { amountError, PreviewBox, walletProblem } from "./common";

export const SLIPPAGE_CHOICES = [10n, 50n, 100n, 300n];

interface Quote {
  points: bigint;
  payout: bigint;
  tax: bigint;
  kept: bigint;
  block: bigint;
}

export class RedeemForm {
  amount = "";
  slippageBps = 50n;
  private quote: Quote | null = null;
  private preview: PreviewBox | null = null;
  private setAmountError: (text: string | null) => void = () => {};
  private input: HTMLInputElement | null = null;
  private sending = false;

  constructor(
    private readonly app: App,
    private readonly balance: () => bigint | null,
    private readonly onDone: () => void,
  ) {}

  render(): HTMLElement {
    const input = textInput("redeem-amount", this.amount, { inputmode: "decimal", "data-testid": "redeem-amount" });
    input.addEventListener("input", () => {
      this.amount = input.value;
      this.close();
    });
    this.input = input;
    const all = h(
      "button",
      {
        type: "button",
        "data-testid": "redeem-all",
        "on:click": () => {
          const balance = this.balance();
          if (balance === null) return;
          this.amount = input.value = exactUnits(balance, POINT_DECIMALS);
          this.close();
        },
      },
      t("redeem.all"),
    );
    const amountField = field({ label: t("redeem.amount"), hint: t("redeem.amountHint"), input, after: all });
    this.setAmountError = amountField.setError;
    const select = h(
      "select",
      { name: "slippage", "data-testid": "redeem-slippage" },
      ...SLIPPAGE_CHOICES.map((bps) =>
        h("option", { value: bps.toString(), selected: bps === this.slippageBps }, formatBps(bps, locale())),
      ),
    );
    select.addEventListener("change", () => {
      this.slippageBps = BigInt(select.value);
      this.renderPreview();
    });
    const slippageField = field({ label: t("redeem.slippage"), hint: t("redeem.slippageHint"), input: select });
    this.preview = new PreviewBox("redeem", () => void this.confirm(), () => this.close());
    const form = h(
      "form",
      { class: "action", "data-testid": "redeem-form", novalidate: true },
      h("p", { class: "lead" }, t("redeem.lead")),
      amountField.el,
      slippageField.el,
      h("div", { class: "buttons" }, h("button", { type: "submit", "data-testid": "redeem-preview-button" }, t("form.preview"))),
      this.preview.el,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.open();
    });
    return form;
  }

  private close(): void {
    this.quote = null;
    this.preview?.hide();
  }

  private async open(): Promise<void> {
    const preview = this.preview;
    if (!preview) return;
    preview.status.clear();
    const parsed = parseAmount(this.amount, POINT_DECIMALS);
    const error = amountError(parsed, POINT_DECIMALS);
    if (error || !parsed.ok) {
      this.setAmountError(error);
      this.input?.focus();
      return;
    }
    const balance = this.balance();
    if (balance !== null && parsed.value > balance) {
      this.setAmountError(t("form.tooFewPoints", { balance: pointsText(balance), requested: pointsText(parsed.value) }));
      this.input?.focus();
      return;
    }
    this.setAmountError(null);
    await this.requote(parsed.value);
  }

  /** Read the quote again (on open and whenever the chain moves while the preview is open). */
  async requote(points?: bigint): Promise<void> {
    const wanted = points ?? this.quote?.points;
    const preview = this.preview;
    if (wanted === undefined || !preview || this.sending) return;
    const reader = this.app.chain.reader();
    if (!reader) {
      preview.status.show("error", t("error.noReader"));
      return;
    }
    try {
      const block = await reader.client.getBlockNumber({ cacheTime: 0 });
      const [payout, tax, kept] = await reader.client.readContract({
        ...this.app.contracts.pool,
        functionName: "quoteRedeem",
        args: [wanted],
        blockNumber: block,
      });
      this.quote = { points: wanted, payout, tax, kept, block };
      this.renderPreview();
    } catch (exc) {
      preview.status.show("error", describeError(exc, this.app.errorContext()));
    }
  }

  get isOpen(): boolean {
    return this.preview?.open ?? false;
  }

  private minPayout(quote: Quote): bigint {
    return (quote.payout * (BPS - this.slippageBps)) / BPS;
  }

  private renderPreview(): void {
    const quote = this.quote;
    const preview = this.preview;
    if (!quote || !preview) return;
    const d = this.app.deployment.asset_decimals;
    const sym = this.app.assetSymbol;
    preview.show(
      figures(
        pointsFigure(t("redeem.burn"), quote.points, "redeem-quote-points"),
        assetFigure(t("redeem.payout"), quote.payout, d, sym, "redeem-quote-payout"),
        assetFigure(t("redeem.tax"), quote.tax, d, sym, "redeem-quote-tax"),
        assetFigure(t("redeem.kept"), quote.kept, d, sym, "redeem-quote-kept"),
        assetFigure(t("redeem.minPayout"), this.minPayout(quote), d, sym, "redeem-quote-min"),
        figure(t("redeem.tolerance"), formatBps(this.slippageBps, locale())),
      ),
      caption(t("redeem.quotedAt", { block: quote.block.toString() })),
    );
  }

  private async confirm(): Promise<void> {
    const quote = this.quote;
    const preview = this.preview;
    if (!quote || !preview || this.sending) return;
    const problem = walletProblem(this.app);
    if (problem) {
      preview.status.show("error", problem);
      return;
    }
    const minPayout = this.minPayout(quote);
    const account = this.app.session.account;
    this.sending = true;
    preview.busy(true);
    const receipt = await runTx(this.app, preview.status, async () => {
      const reader = this.app.chain.reader();
      const writer = this.app.chain.writer();
      if (!reader || !writer || !account) throw new Error(t("form.connectFirst"));
      const { request } = await reader.client.simulateContract({
        ...this.app.contracts.pool,
        functionName: "redeem",
        args: [quote.points, minPayout],
        account,
      });
      return writer.writeContract(request);
    });
    this.sending = false;
    preview.busy(false);
    if (receipt) {
      this.amount = "";
      if (this.input) this.input.value = "";
      this.quote = null;
      preview.hide();
      this.onDone();
    }
  }
}
