// The customer's view: points, face value, cash-out value (quoteRedeem) and the price, read from
// the chain; the price's 24 h change, candles, balance history and activity from the mirror; and
// the three actions.
import type { App } from "../app";
import { describeError } from "../errors";
import { locale, t, type MessageKey } from "../i18n";
import type { ActivityItem, ActivityOut, BalanceChange, CandlesOut, Merchant, Page, PoolOut } from "../types";
import { fill, h } from "../ui/dom";
import {
  addressView,
  assetFigure,
  assetText,
  caption,
  card,
  figure,
  figures,
  notice,
  pointsFigure,
  pointsText,
  priceText,
  timeText,
} from "../ui/parts";
import { changeBps, faceValue, formatBps } from "../units";
import { RedeemForm } from "./actions/redeem";
import { SpendForm } from "./actions/spend";
import { TransferForm } from "./actions/transfer";
import { BalanceChart, PriceChart } from "./charts";
import type { View } from "./view";

export const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"] as const;
type Interval = (typeof INTERVALS)[number];
// How many buckets each interval shows: a few hours of minutes up to a year of days.
const CANDLE_COUNT: Record<Interval, number> = { "1m": 180, "5m": 288, "15m": 192, "1h": 168, "4h": 180, "1d": 365 };
const DAY = 86_400;
const ACTIVITY_PAGE = 10;

interface Summary {
  account: `0x${string}`;
  block: bigint;
  source: "wallet" | "rpc";
  balance: bigint;
  payout: bigint;
  tax: bigint;
  kept: bigint;
  price: bigint;
  paused: boolean;
}

export class CustomerView implements View {
  readonly id = "customer";
  readonly root = h("div", { class: "view", "data-view": "customer" });
  interval: Interval = "1h";
  mode: "candles" | "line" = "candles";
  private summary: Summary | null = null;
  private summaryError: string | null = null;
  private candles: CandlesOut | null = null;
  private candlesError: string | null = null;
  private change: { bps: bigint | null; since: number } | null = null;
  private history: Page<BalanceChange> | null = null;
  private activity: ActivityItem[] = [];
  private activityCursor: string | null = null;
  private activityFor: string | null = null;
  private activityBlock: number | null = null;
  private mirrorError: string | null = null;
  private merchants: Merchant[] | null = null;
  private priceChart: PriceChart | null = null;
  private balanceChart: BalanceChart | null = null;
  private els: Record<"summary" | "priceInfo" | "priceControls" | "history" | "activity" | "actions", HTMLElement> | null =
    null;
  private readonly redeem: RedeemForm;
  private readonly transfer: TransferForm;
  private readonly spend: SpendForm;

  constructor(private readonly app: App) {
    const balance = () => this.summary?.balance ?? null;
    const done = () => void this.app.poll();
    this.redeem = new RedeemForm(app, balance, done);
    this.transfer = new TransferForm(app, balance, done);
    this.spend = new SpendForm(app, balance, () => this.merchants, () => this.summary?.paused ?? null, done);
  }

  render(): void {
    this.destroyCharts();
    const summary = h("div", { "aria-live": "polite" });
    const priceInfo = h("div", {});
    const priceControls = h("div", { class: "chart-controls" });
    const chartBox = h("div", {
      class: "chart",
      role: "img",
      "data-testid": "price-chart",
      "aria-label": t("price.chartLabel", { interval: this.interval }),
    });
    const historyChart = h("div", { class: "chart small", role: "img", "aria-label": t("history.chartLabel") });
    const history = h("div", {});
    const activity = h("div", {});
    const actions = h("div", { class: "actions" });
    this.els = { summary, priceInfo, priceControls, history, activity, actions };
    fill(
      this.root,
      card("customer-summary", "customer.title", summary),
      card("customer-price", "price.title", priceInfo, priceControls, chartBox),
      actions,
      card("customer-history", "history.title", historyChart, history),
      card("customer-activity", "activity.title", activity),
    );
    this.priceChart = new PriceChart(chartBox);
    this.balanceChart = new BalanceChart(historyChart);
    this.renderAll();
  }

  private renderAll(): void {
    this.renderSummary();
    this.renderPrice();
    this.renderActions();
    this.renderHistory();
    this.renderActivity();
  }

  async refresh(reason: "indexed" | "head" | "wallet"): Promise<void> {
    const account = this.app.session.account;
    const tasks: Promise<void>[] = [this.loadSummary()];
    if (reason !== "head" || this.candles === null) tasks.push(this.loadPrice());
    if (reason !== "head" || this.history === null) tasks.push(this.loadMirror(account, reason === "wallet"));
    if (this.merchants === null || reason === "indexed") tasks.push(this.loadMerchants());
    await Promise.all(tasks);
    if (this.redeem.isOpen) await this.redeem.requote();
  }

  private summaryRun = 0;

  private async loadSummary(): Promise<void> {
    // Reads can overlap (a new block while the last one is read): only the newest one is shown.
    const run = ++this.summaryRun;
    const account = this.app.session.account;
    const reader = this.app.chain.reader();
    if (!account) {
      this.summary = null;
      this.summaryError = null;
      return this.renderSummary();
    }
    if (!reader) {
      this.summaryError = t("error.noReader");
      return this.renderSummary();
    }
    try {
      const block = await reader.client.getBlockNumber({ cacheTime: 0 });
      const { pool, points } = this.app.contracts;
      const at = { blockNumber: block };
      const [balance, price, paused] = await Promise.all([
        reader.client.readContract({ ...points, functionName: "balanceOf", args: [account], ...at }),
        reader.client.readContract({ ...pool, functionName: "price", ...at }),
        reader.client.readContract({ ...pool, functionName: "paused", ...at }),
      ]);
      const [payout, tax, kept] =
        balance > 0n
          ? await reader.client.readContract({ ...pool, functionName: "quoteRedeem", args: [balance], ...at })
          : [0n, 0n, 0n];
      if (run !== this.summaryRun) return;
      const wasPaused = this.summary?.paused;
      this.summary = { account, block, source: reader.source, balance, payout, tax, kept, price, paused };
      this.summaryError = null;
      if (wasPaused !== paused) this.spend.update();
    } catch (exc) {
      if (run !== this.summaryRun) return;
      this.summaryError = describeError(exc, this.app.errorContext());
    }
    this.renderSummary();
  }

  private async loadPrice(): Promise<void> {
    try {
      const candles = await this.app.api.get<CandlesOut>("/v1/price/candles", {
        interval: this.interval,
        limit: CANDLE_COUNT[this.interval],
      });
      this.candles = candles;
      this.candlesError = null;
      const now = candles.indexed_block.timestamp;
      const pool: PoolOut | null = this.app.status.pool;
      if (now !== null && pool) {
        // The price a day before the indexed block: the close of the minute that holds that moment
        // (or, on a younger chain, the first price there is).
        const ago = await this.app.api.get<CandlesOut>("/v1/price/candles", { interval: "1m", to: now - DAY, limit: 1 });
        const then = ago.candles.at(-1) ?? (await this.firstCandle());
        this.change = then
          ? { bps: changeBps(BigInt(pool.price.raw), BigInt(then.close.raw)), since: then.bucket.timestamp }
          : null;
      }
    } catch (exc) {
      this.candlesError = describeError(exc, this.app.errorContext());
    }
    this.renderPrice();
  }

  private async firstCandle() {
    const first = await this.app.api.get<CandlesOut>("/v1/price/candles", { interval: "1m", from: 0, limit: 1 });
    const candle = first.candles[0];
    return candle ? { ...candle, close: candle.open } : undefined;
  }

  private async loadMirror(account: string | null, reset: boolean): Promise<void> {
    if (!account) {
      this.history = null;
      this.activity = [];
      this.activityCursor = null;
      this.activityFor = null;
      this.renderHistory();
      this.renderActivity();
      return;
    }
    try {
      const [history, first] = await Promise.all([
        this.app.api.get<Page<BalanceChange>>(`/v1/accounts/${account}/balance/history`, { limit: 500 }),
        this.app.api.get<ActivityOut>(`/v1/accounts/${account}/activity`, { limit: ACTIVITY_PAGE }),
      ]);
      this.history = history;
      if (reset || this.activityFor !== account) {
        this.activity = first.items;
        this.activityCursor = first.next_cursor;
      } else {
        // New rows come before the first page; keep what "load more" already fetched.
        const seen = new Set(this.activity.map(key));
        const fresh = first.items.filter((item) => !seen.has(key(item)));
        this.activity = [...fresh, ...this.activity];
        if (this.activity.length === fresh.length) this.activityCursor = first.next_cursor;
      }
      this.activityFor = account;
      this.activityBlock = first.indexed_block.number;
      this.mirrorError = null;
    } catch (exc) {
      this.mirrorError = describeError(exc, this.app.errorContext());
    }
    this.renderHistory();
    this.renderActivity();
  }

  private async loadMerchants(): Promise<void> {
    try {
      const list = await this.app.api.get<Page<Merchant>>("/v1/merchants", { limit: 1000 });
      const before = JSON.stringify(this.merchants?.map((m) => [m.address, m.active, m.rate_bps]));
      this.merchants = list.items;
      if (before !== JSON.stringify(this.merchants.map((m) => [m.address, m.active, m.rate_bps]))) this.spend.update();
    } catch {
      // the spend form says the list is missing
    }
  }

  private async loadMore(button: HTMLButtonElement): Promise<void> {
    const account = this.activityFor;
    if (!account || !this.activityCursor) return;
    button.disabled = true;
    try {
      const page = await this.app.api.get<ActivityOut>(`/v1/accounts/${account}/activity`, {
        limit: ACTIVITY_PAGE,
        cursor: this.activityCursor,
      });
      this.activity = [...this.activity, ...page.items];
      this.activityCursor = page.next_cursor;
      this.mirrorError = null;
    } catch (exc) {
      this.mirrorError = describeError(exc, this.app.errorContext());
    }
    this.renderActivity();
    const next = this.root.querySelector<HTMLButtonElement>("[data-testid=activity-more]");
    (next ?? this.root.querySelector<HTMLElement>("[data-testid=activity-list] li:last-child a, [data-testid=activity-list]"))?.focus();
  }

  // ------------------------------------------------------------------ rendering

  private renderSummary(): void {
    const el = this.els?.summary;
    if (!el) return;
    const s = this.summary;
    const d = this.app.deployment.asset_decimals;
    const sym = this.app.assetSymbol;
    if (!this.app.session.account) {
      fill(el, notice("info", t("customer.connectPrompt"), "customer-connect-prompt"));
      return;
    }
    if (!s || s.account !== this.app.session.account) {
      fill(el, this.summaryError ? notice("error", this.summaryError, "summary-error") : h("p", {}, t("common.loading")));
      return;
    }
    fill(
      el,
      figures(
        pointsFigure(t("customer.points"), s.balance, "balance"),
        assetFigure(t("customer.faceValue"), faceValue(s.balance, d), d, sym, "face-value"),
        assetFigure(t("customer.cashOut"), s.payout, d, sym, "cash-out"),
        figure(t("customer.priceNow"), priceText(s.price, sym), { raw: s.price, testid: "price-now" }),
      ),
      h("p", { class: "hint" }, t("customer.cashOutNote", { fee: assetText(s.tax + s.kept, d, sym) })),
      s.paused ? notice("warn", t("error.EnforcedPause"), "paused-notice") : null,
      this.summaryError ? notice("error", this.summaryError, "summary-error") : null,
      caption(
        t(s.source === "wallet" ? "source.chainWallet" : "source.chainRpc", { block: s.block.toString() }),
        "summary-source",
      ),
    );
  }

  private renderPrice(): void {
    const els = this.els;
    if (!els) return;
    const pool = this.app.status.pool;
    const change = this.change;
    const changeText =
      change && change.bps !== null
        ? `${change.bps > 0n ? "+" : ""}${formatBps(change.bps, locale())}`
        : t("common.none");
    fill(
      els.priceInfo,
      figures(
        pool ? figure(t("price.mirror"), priceText(BigInt(pool.price.raw), this.app.assetSymbol), { raw: pool.price.raw, testid: "price-mirror" }) : null,
        figure(
          change && change.since < (this.candles?.indexed_block.timestamp ?? 0) - DAY + 120
            ? t("price.change24h")
            : t("price.changeSince", { time: change ? timeText(change.since) : "—" }),
          changeText,
          { testid: "price-change", raw: change?.bps ?? null },
        ),
      ),
      this.candlesError ? notice("error", this.candlesError, "price-error") : null,
      this.candles ? caption(t("source.mirror", { block: String(this.candles.indexed_block.number) })) : null,
    );
    const group = h("div", { class: "segmented", role: "group", "aria-label": t("price.interval") });
    for (const interval of INTERVALS) {
      group.append(
        h(
          "button",
          {
            type: "button",
            "aria-pressed": String(interval === this.interval),
            "data-testid": `interval-${interval}`,
            "on:click": () => {
              this.interval = interval;
              this.candles = null;
              this.renderPrice();
              void this.loadPrice();
            },
          },
          interval,
        ),
      );
    }
    const lineId = "price-line-mode";
    const line = h("input", { type: "checkbox", id: lineId, "data-testid": "line-mode", checked: this.mode === "line" });
    line.addEventListener("change", () => {
      this.mode = line.checked ? "line" : "candles";
      if (this.priceChart) this.priceChart.el.dataset.mode = this.mode;
      if (this.candles) this.priceChart?.show(this.candles.candles, this.mode);
    });
    fill(els.priceControls, group, h("label", { class: "check", for: lineId }, line, t("price.lineMode")));
    const chartEl = this.priceChart?.el;
    if (chartEl) {
      chartEl.setAttribute("aria-label", t("price.chartLabel", { interval: this.interval }));
      chartEl.dataset.candles = String(this.candles?.candles.length ?? 0);
      chartEl.dataset.mode = this.mode;
      chartEl.dataset.interval = this.interval;
    }
    if (this.candles) this.priceChart?.show(this.candles.candles, this.mode);
  }

  private renderActions(): void {
    const el = this.els?.actions;
    if (!el) return;
    fill(
      el,
      card("action-redeem", "redeem.title", this.redeem.render()),
      card("action-transfer", "transfer.title", this.transfer.render()),
      card("action-spend", "spend.title", this.spend.render()),
    );
  }

  private renderHistory(): void {
    const el = this.els?.history;
    if (!el) return;
    const changes = this.history?.items ?? [];
    this.balanceChart?.show(changes);
    if (!this.app.session.account) return fill(el, notice("info", t("customer.connectPrompt")));
    const last = changes[0];
    fill(
      el,
      this.mirrorError ? notice("error", this.mirrorError, "history-error") : null,
      last
        ? h(
            "p",
            { "data-testid": "history-latest" },
            t("history.latest", { balance: pointsText(BigInt(last.balance.raw)), time: timeText(last.time.timestamp) }),
          )
        : h("p", {}, t("history.empty")),
      this.history ? caption(t("source.mirror", { block: String(this.history.indexed_block.number) })) : null,
    );
  }

  private renderActivity(): void {
    const el = this.els?.activity;
    if (!el) return;
    if (!this.app.session.account) return fill(el, notice("info", t("customer.connectPrompt")));
    const explorer = this.app.deployment.explorer_url;
    const list = h("ol", { class: "activity", "data-testid": "activity-list" });
    for (const item of this.activity) list.append(activityRow(item, this.app, explorer));
    const more = this.activityCursor
      ? h(
          "button",
          { type: "button", "data-testid": "activity-more", "on:click": (e: Event) => void this.loadMore(e.currentTarget as HTMLButtonElement) },
          t("activity.more"),
        )
      : null;
    fill(
      el,
      this.mirrorError ? notice("error", this.mirrorError, "activity-error") : null,
      this.activity.length ? list : h("p", {}, t("activity.empty")),
      more,
      this.activityBlock !== null ? caption(t("source.mirror", { block: String(this.activityBlock) })) : null,
    );
  }

  private destroyCharts(): void {
    this.priceChart?.destroy();
    this.balanceChart?.destroy();
    this.priceChart = this.balanceChart = null;
  }

  destroy(): void {
    this.destroyCharts();
  }
}

function key(item: ActivityItem): string {
  return `${item.block_number}:${item.log_index}:${item.kind}`;
}

const KIND_LABEL: Record<ActivityItem["kind"], MessageKey> = {
  checkout: "activity.kind.checkout",
  transfer_in: "activity.kind.transfer_in",
  transfer_out: "activity.kind.transfer_out",
  spend: "activity.kind.spend",
  redemption: "activity.kind.redemption",
  burn: "activity.kind.burn",
};

function activityRow(item: ActivityItem, app: App, explorer: string | null): HTMLElement {
  const incoming = item.kind === "checkout" || item.kind === "transfer_in";
  const sign = incoming ? "+" : "−";
  const other = item.counterparty ?? item.merchant;
  const extra =
    item.kind === "redemption" && item.payout
      ? t("activity.payout", { payout: assetText(BigInt(item.payout.raw), app.deployment.asset_decimals, app.assetSymbol) })
      : null;
  return h(
    "li",
    { "data-kind": item.kind, "data-block": String(item.block_number) },
    h("span", { class: "kind" }, t(KIND_LABEL[item.kind])),
    h("span", { class: `points ${incoming ? "in" : "out"}`, "data-raw": item.points.raw }, `${sign}${pointsText(BigInt(item.points.raw))}`),
    other ? addressView(other, explorer) : null,
    extra ? h("span", { class: "extra" }, extra) : null,
    h("time", { datetime: item.time.time }, timeText(item.time.timestamp)),
  );
}
