// The merchant's view (a connected merchant wallet): its rate, daily cap, minted today (and the
// global cap), recent checkouts, and a checkout form: quoteCheckout first, the asset approval
// handled, then `checkout`.
import { getAddress, isAddress, maxUint256, zeroAddress } from "viem";
import type { App } from "../app";
import { describeError } from "../errors";
import { locale, t } from "../i18n";
import { orderId, orderRefProblem } from "../orders";
import { runTx } from "../tx";
import type { Checkout, Page } from "../types";
import { fill, h } from "../ui/dom";
import {
  addressView,
  assetFigure,
  assetText,
  caption,
  card,
  field,
  figure,
  figures,
  notice,
  pointsFigure,
  pointsText,
  textInput,
  timeText,
} from "../ui/parts";
import { formatBps, parseAmount } from "../units";
import { amountError, PreviewBox, walletProblem } from "./actions/common";
import type { View } from "./view";

interface MerchantState {
  account: `0x${string}`;
  block: bigint;
  rateBps: number;
  dailyCap: bigint;
  active: boolean;
  mintedToday: bigint;
  globalCap: bigint;
  globalMinted: bigint;
  paused: boolean;
  assetBalance: bigint;
  allowance: bigint;
}

interface PendingCheckout {
  customer: `0x${string}`;
  sale: bigint;
  orderRef: string;
  orderId: `0x${string}`;
  points: bigint;
  poolIn: bigint;
}

export class MerchantView implements View {
  readonly id = "merchant";
  readonly root = h("div", { class: "view", "data-view": "merchant" });
  private state: MerchantState | null = null;
  private error: string | null = null;
  private checkouts: Page<Checkout> | null = null;
  private checkoutsError: string | null = null;
  private form = { customer: "", sale: "", orderRef: "" };
  private pending: PendingCheckout | null = null;
  private preview: PreviewBox | null = null;
  private setErrors: Record<"customer" | "sale" | "ref", (text: string | null) => void> | null = null;
  private inputs: HTMLInputElement[] = [];
  private sending = false;
  private els: { status: HTMLElement; checkouts: HTMLElement } | null = null;

  constructor(private readonly app: App) {}

  render(): void {
    const status = h("div", { "aria-live": "polite" });
    const checkouts = h("div", {});
    this.els = { status, checkouts };
    fill(
      this.root,
      card("merchant-status", "merchant.title", status),
      card("merchant-checkout", "checkout.title", this.renderForm()),
      card("merchant-checkouts", "merchant.recent", checkouts),
    );
    this.renderStatus();
    this.renderCheckouts();
  }

  async refresh(reason: "indexed" | "head" | "wallet"): Promise<void> {
    await this.load();
    // Only a registered merchant has checkouts to list (the API answers 404 for any other address).
    if (this.state && this.state.rateBps > 0) {
      if (reason !== "head" || this.checkouts === null) await this.loadCheckouts();
    } else if (this.checkouts !== null || reason === "wallet") {
      this.checkouts = null;
      this.checkoutsError = null;
      this.renderCheckouts();
    }
  }

  private async load(): Promise<void> {
    const account = this.app.session.account;
    const reader = this.app.chain.reader();
    if (!account) {
      this.state = null;
      return this.renderStatus();
    }
    if (!reader) {
      this.error = t("error.noReader");
      return this.renderStatus();
    }
    try {
      const block = await reader.client.getBlockNumber({ cacheTime: 0 });
      const { pool, asset } = this.app.contracts;
      const at = { blockNumber: block };
      const [m, globalCap, globalMinted, paused, assetBalance, allowance] = await Promise.all([
        reader.client.readContract({ ...pool, functionName: "merchant", args: [account], ...at }),
        reader.client.readContract({ ...pool, functionName: "globalDailyCap", ...at }),
        reader.client.readContract({ ...pool, functionName: "globalMintedToday", ...at }),
        reader.client.readContract({ ...pool, functionName: "paused", ...at }),
        reader.client.readContract({ ...asset, functionName: "balanceOf", args: [account], ...at }),
        reader.client.readContract({ ...asset, functionName: "allowance", args: [account, this.app.deployment.pool], ...at }),
      ]);
      const [rateBps, dailyCap, active, mintedToday] = m;
      this.state = { account, block, rateBps, dailyCap, active, mintedToday, globalCap, globalMinted, paused, assetBalance, allowance };
      this.error = null;
    } catch (exc) {
      this.error = describeError(exc, this.app.errorContext());
    }
    this.renderStatus();
  }

  private async loadCheckouts(): Promise<void> {
    const account = this.app.session.account;
    if (!account) {
      this.checkouts = null;
      return this.renderCheckouts();
    }
    try {
      this.checkouts = await this.app.api.get<Page<Checkout>>(`/v1/merchants/${account}/checkouts`, { limit: 10 });
      this.checkoutsError = null;
    } catch (exc) {
      this.checkouts = null;
      // A merchant the mirror has not seen yet (or a customer's wallet) has no checkouts: not an error.
      const notFound = (exc as { kind?: string }).kind === "not-found";
      this.checkoutsError = notFound ? null : describeError(exc, this.app.errorContext());
    }
    this.renderCheckouts();
  }

  private renderStatus(): void {
    const el = this.els?.status;
    if (!el) return;
    if (!this.app.session.account) return fill(el, notice("info", t("merchant.connectPrompt"), "merchant-connect-prompt"));
    const s = this.state;
    if (!s || s.account !== this.app.session.account) {
      return fill(el, this.error ? notice("error", this.error) : h("p", {}, t("common.loading")));
    }
    const registered = s.rateBps > 0;
    const d = this.app.deployment.asset_decimals;
    const sym = this.app.assetSymbol;
    fill(
      el,
      !registered ? notice("warn", t("merchant.notMerchant"), "merchant-not-registered") : null,
      registered && !s.active ? notice("warn", t("merchant.inactive"), "merchant-inactive") : null,
      s.paused ? notice("warn", t("error.EnforcedPause"), "merchant-paused") : null,
      registered
        ? figures(
            figure(t("merchant.rate"), formatBps(s.rateBps, locale()), { raw: String(s.rateBps), testid: "merchant-rate" }),
            pointsFigure(t("merchant.dailyCap"), s.dailyCap, "merchant-cap"),
            pointsFigure(t("merchant.mintedToday"), s.mintedToday, "merchant-minted"),
            pointsFigure(t("merchant.remainingToday"), s.dailyCap - s.mintedToday, "merchant-remaining"),
            pointsFigure(t("merchant.globalCap"), s.globalCap, "global-cap"),
            pointsFigure(t("merchant.globalMinted"), s.globalMinted, "global-minted"),
            assetFigure(t("merchant.assetBalance"), s.assetBalance, d, sym, "merchant-asset-balance"),
            figure(
              t("merchant.allowance"),
              s.allowance === maxUint256 ? t("merchant.unlimited") : assetText(s.allowance, d, sym),
              { raw: s.allowance, testid: "merchant-allowance" },
            ),
          )
        : null,
      this.error ? notice("error", this.error) : null,
      caption(t("source.chainAt", { block: s.block.toString() })),
    );
  }

  private renderCheckouts(): void {
    const el = this.els?.checkouts;
    if (!el) return;
    if (!this.app.session.account) return fill(el, notice("info", t("merchant.connectPrompt")));
    const items = this.checkouts?.items ?? [];
    const d = this.app.deployment.asset_decimals;
    const sym = this.app.assetSymbol;
    const list = h("ol", { class: "activity", "data-testid": "checkout-list" });
    for (const c of items) {
      list.append(
        h(
          "li",
          { "data-block": String(c.block_number) },
          h("span", { class: "kind" }, assetText(BigInt(c.sale_amount.raw), d, sym)),
          h("span", { class: "points in", "data-raw": c.points.raw }, `+${pointsText(BigInt(c.points.raw))}`),
          addressView(c.customer, this.app.deployment.explorer_url),
          h("span", { class: "extra" }, t("merchant.poolIn", { amount: assetText(BigInt(c.pool_in.raw), d, sym) })),
          h("time", { datetime: c.time.time }, timeText(c.time.timestamp)),
        ),
      );
    }
    fill(
      el,
      this.checkoutsError ? notice("error", this.checkoutsError) : null,
      items.length ? list : h("p", {}, t("merchant.noCheckouts")),
      this.checkouts ? caption(t("source.mirror", { block: String(this.checkouts.indexed_block.number) })) : null,
    );
  }

  private renderForm(): HTMLElement {
    const customer = textInput("checkout-customer", this.form.customer, { "data-testid": "checkout-customer", placeholder: "0x…" });
    const sale = textInput("checkout-sale", this.form.sale, { inputmode: "decimal", "data-testid": "checkout-sale" });
    const ref = textInput("checkout-order", this.form.orderRef, { "data-testid": "checkout-order", maxlength: "256" });
    const bind = (input: HTMLInputElement, name: keyof MerchantView["form"]) =>
      input.addEventListener("input", () => {
        this.form[name] = input.value;
        this.pending = null;
        this.preview?.hide();
      });
    bind(customer, "customer");
    bind(sale, "sale");
    bind(ref, "orderRef");
    this.inputs = [customer, sale, ref];
    const f1 = field({ label: t("checkout.customer"), input: customer });
    const f2 = field({ label: t("checkout.sale", { symbol: this.app.assetSymbol }), input: sale });
    const f3 = field({ label: t("checkout.orderRef"), hint: t("spend.orderRefHint"), input: ref });
    this.setErrors = { customer: f1.setError, sale: f2.setError, ref: f3.setError };
    this.preview = new PreviewBox("checkout", () => void this.confirm(), () => {
      this.pending = null;
      this.preview?.hide();
    });
    const form = h(
      "form",
      { class: "action", "data-testid": "checkout-form", novalidate: true },
      h("p", { class: "lead" }, t("checkout.lead")),
      f1.el,
      f2.el,
      f3.el,
      h("div", { class: "buttons" }, h("button", { type: "submit", "data-testid": "checkout-preview-button" }, t("form.preview"))),
      this.preview.el,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.open();
    });
    return form;
  }

  private async open(): Promise<void> {
    const preview = this.preview;
    const errors = this.setErrors;
    if (!preview || !errors) return;
    preview.status.clear();
    const [customerInput, saleInput, refInput] = this.inputs;
    const text = this.form.customer.trim();
    const body = text.slice(2);
    const oneCase = body === body.toLowerCase() || body === body.toUpperCase();
    const customerOk = /^0x[0-9a-fA-F]{40}$/.test(text) && (oneCase || isAddress(text, { strict: true }));
    const customer = customerOk ? getAddress(text.toLowerCase()) : null;
    errors.customer(
      !customerOk ? t(/^0x[0-9a-fA-F]{40}$/.test(text) ? "transfer.error.checksum" : "transfer.error.format") : customer === zeroAddress ? t("transfer.error.zero") : null,
    );
    const d = this.app.deployment.asset_decimals;
    const parsed = parseAmount(this.form.sale, d);
    errors.sale(amountError(parsed, d));
    const refProblem = orderRefProblem(this.form.orderRef);
    errors.ref(refProblem ? t(`order.error.${refProblem}`) : null);
    if (!customer || customer === zeroAddress) return customerInput?.focus();
    if (!parsed.ok) return saleInput?.focus();
    if (refProblem) return refInput?.focus();
    const problem = walletProblem(this.app);
    const s = this.state;
    if (problem || !s) {
      preview.status.show("error", problem ?? t("common.loading"));
      return;
    }
    if (s.rateBps === 0 || !s.active) {
      preview.status.show("error", t(s.rateBps === 0 ? "merchant.notMerchant" : "merchant.inactive"));
      return;
    }
    if (s.paused) {
      preview.status.show("error", t("error.EnforcedPause"));
      return;
    }
    const reader = this.app.chain.reader();
    if (!reader) return preview.status.show("error", t("error.noReader"));
    const id = orderId(this.form.orderRef);
    try {
      const [[points, poolIn], used] = await Promise.all([
        reader.client.readContract({ ...this.app.contracts.pool, functionName: "quoteCheckout", args: [s.account, parsed.value] }),
        reader.client.readContract({ ...this.app.contracts.pool, functionName: "isCheckedOut", args: [s.account, id] }),
      ]);
      if (used) {
        errors.ref(t("checkout.error.used"));
        return refInput?.focus();
      }
      this.pending = { customer, sale: parsed.value, orderRef: this.form.orderRef, orderId: id, points, poolIn };
      const sym = this.app.assetSymbol;
      const short = s.allowance < poolIn;
      const remaining = s.dailyCap - s.mintedToday;
      const globalRemaining = s.globalCap - s.globalMinted;
      preview.show(
        figures(
          figure(t("checkout.customer"), customer, { testid: "checkout-preview-customer" }),
          assetFigure(t("checkout.saleAmount"), parsed.value, d, sym, "checkout-preview-sale"),
          pointsFigure(t("checkout.points"), points, "checkout-preview-points"),
          assetFigure(t("checkout.poolIn"), poolIn, d, sym, "checkout-preview-pool-in"),
          figure(t("spend.orderId"), id, { testid: "checkout-preview-order-id" }),
        ),
        short ? notice("info", t("checkout.approvalNeeded", { amount: assetText(poolIn, d, sym) }), "checkout-approval") : "",
        s.assetBalance < poolIn ? notice("error", t("checkout.error.balance", { balance: assetText(s.assetBalance, d, sym) })) : "",
        points > remaining ? notice("error", t("checkout.error.cap", { remaining: pointsText(remaining) })) : "",
        points > globalRemaining ? notice("error", t("checkout.error.globalCap", { remaining: pointsText(globalRemaining) })) : "",
      );
      preview.confirm.textContent = short ? t("checkout.approveAndCheckout") : t("form.confirm");
    } catch (exc) {
      preview.status.show("error", describeError(exc, this.app.errorContext(d)));
    }
  }

  private async confirm(): Promise<void> {
    const pending = this.pending;
    const preview = this.preview;
    const s = this.state;
    if (!pending || !preview || !s || this.sending) return;
    const problem = walletProblem(this.app);
    if (problem) return preview.status.show("error", problem);
    const account = s.account;
    const d = this.app.deployment.asset_decimals;
    this.sending = true;
    preview.busy(true);
    try {
      const reader = this.app.chain.reader();
      const writer = this.app.chain.writer();
      if (!reader || !writer) return preview.status.show("error", t("form.connectFirst"));
      const allowance = await reader.client.readContract({
        ...this.app.contracts.asset,
        functionName: "allowance",
        args: [account, this.app.deployment.pool],
      });
      if (allowance < pending.poolIn) {
        // Approve exactly what this checkout pulls: no standing allowance beyond it.
        const approved = await runTx(
          this.app,
          preview.status,
          async () => {
            const { request } = await reader.client.simulateContract({
              ...this.app.contracts.asset,
              functionName: "approve",
              args: [this.app.deployment.pool, pending.poolIn],
              account,
            });
            return writer.writeContract(request);
          },
          d,
        );
        if (!approved) return;
      }
      const receipt = await runTx(
        this.app,
        preview.status,
        async () => {
          const { request } = await reader.client.simulateContract({
            ...this.app.contracts.pool,
            functionName: "checkout",
            args: [pending.customer, pending.sale, pending.orderId],
            account,
          });
          return writer.writeContract(request);
        },
        d,
      );
      if (receipt) {
        this.form = { customer: "", sale: "", orderRef: "" };
        for (const input of this.inputs) input.value = "";
        this.pending = null;
        preview.hide();
        void this.app.poll();
      }
    } catch (exc) {
      preview.status.show("error", describeError(exc, this.app.errorContext(d)));
    } finally {
      this.sending = false;
      preview.busy(false);
    }
  }

  destroy(): void {}
}

