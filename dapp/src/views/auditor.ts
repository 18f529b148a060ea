// The auditor's view: SPEC §3.1 checked from the chain itself, the mirror compared with the chain
// at the mirror's block, the latest stored audit, the SPEC §5 fraud threshold against the price,
// the parameters within their hard bounds, the governance (timelock, role holders) and each
// contract's code against this repository's build.
import type { App } from "../app";
import { describeError } from "../errors";
import { locale, t } from "../i18n";
import type { AuditOut, PoolOut } from "../types";
import { fill, h } from "../ui/dom";
import { addressView, assetFigure, caption, card, figure, figures, notice, pointsFigure, priceText } from "../ui/parts";
import { BPS, formatBps, formatUnits, POINT_DECIMALS, PRICE_DECIMALS } from "../units";
import {
  checkCode,
  readFigures,
  readGovernance,
  readParameters,
  type CodeCheck,
  type Figures,
  type Governance,
  type Parameters,
} from "./audit-reads";
import type { View } from "./view";

interface ChainSide {
  head: Figures;
  atMirror: Figures | null;
  mirror: PoolOut | null;
  params: Parameters;
  governance: Governance;
  code: CodeCheck[];
  source: "wallet" | "rpc";
}

export class AuditorView implements View {
  readonly id = "auditor";
  readonly root = h("div", { class: "view", "data-view": "auditor" });
  private chain: ChainSide | null = null;
  private chainError: string | null = null;
  private audit: AuditOut | null = null;
  private auditError: string | null = null;
  private els: Record<"backing" | "mirror" | "fraud" | "params" | "governance" | "contracts", HTMLElement> | null = null;
  private loading = false;
  private again: "indexed" | "head" | "wallet" | null = null;

  constructor(private readonly app: App) {}

  render(): void {
    const els = {
      backing: h("div", { "aria-live": "polite" }),
      mirror: h("div", {}),
      fraud: h("div", {}),
      params: h("div", {}),
      governance: h("div", {}),
      contracts: h("div", {}),
    };
    this.els = els;
    fill(
      this.root,
      card("audit-backing", "audit.backing.title", els.backing),
      card("audit-mirror", "audit.mirror.title", els.mirror),
      card("audit-fraud", "audit.fraud.title", els.fraud),
      card("audit-params", "audit.params.title", els.params),
      card("audit-governance", "audit.governance.title", els.governance),
      card("audit-contracts", "audit.contracts.title", els.contracts),
    );
    this.renderAll();
  }

  async refresh(reason: "indexed" | "head" | "wallet"): Promise<void> {
    // One load at a time; a refresh asked for meanwhile runs once after it (the mirror's block
    // may have arrived while the chain was being read).
    if (this.loading) {
      this.again = this.again === "wallet" ? "wallet" : reason;
      return;
    }
    this.loading = true;
    try {
      await Promise.all([this.loadChain(reason), this.loadAudit()]);
    } finally {
      this.loading = false;
    }
    this.renderAll();
    const next = this.again;
    this.again = null;
    if (next) await this.refresh(next);
  }

  private async loadChain(reason: string): Promise<void> {
    const reader = this.app.chain.reader();
    if (!reader) {
      this.chainError = t("error.noReader");
      return;
    }
    try {
      const client = reader.client;
      const block = await client.getBlockNumber({ cacheTime: 0 });
      const mirror = this.app.status.pool;
      const mirrorBlock = mirror ? BigInt(mirror.indexed_block.number) : null;
      const [head, atMirror, params, governance] = await Promise.all([
        readFigures(this.app, client, block),
        mirrorBlock !== null && mirrorBlock <= block ? readFigures(this.app, client, mirrorBlock) : Promise.resolve(null),
        readParameters(this.app, client, block),
        readGovernance(this.app, client, block),
      ]);
      // The code does not change: read it once (and again when the wallet changes the source).
      const code = this.chain && reason !== "wallet" ? this.chain.code : await checkCode(this.app, client, block);
      this.chain = { head, atMirror, mirror, params, governance, code, source: reader.source };
      this.chainError = null;
    } catch (exc) {
      this.chainError = describeError(exc, this.app.errorContext());
    }
  }

  private async loadAudit(): Promise<void> {
    try {
      this.audit = await this.app.api.get<AuditOut>("/v1/audit");
      this.auditError = null;
    } catch (exc) {
      this.auditError = describeError(exc, this.app.errorContext());
    }
  }

  private renderAll(): void {
    const els = this.els;
    if (!els) return;
    const c = this.chain;
    if (!c) {
      const text = this.chainError ?? t("common.loading");
      for (const el of Object.values(els)) fill(el, this.chainError ? notice("error", text) : h("p", {}, text));
      this.renderMirror();
      return;
    }
    this.renderBacking(c);
    this.renderMirror();
    this.renderFraud(c);
    this.renderParams(c);
    this.renderGovernance(c);
    this.renderContracts(c);
  }

  private renderBacking(c: ChainSide): void {
    const d = this.app.deployment.asset_decimals;
    const sym = this.app.assetSymbol;
    const f = c.head;
    const owed = f.reserve + f.taxAccrued;
    const holds = f.assetBalance >= owed;
    fill(
      this.els!.backing,
      figures(
        assetFigure(t("audit.reserve"), f.reserve, d, sym, "audit-reserve"),
        assetFigure(t("audit.taxAccrued"), f.taxAccrued, d, sym, "audit-tax"),
        pointsFigure(t("audit.supply"), f.supply, "audit-supply"),
        assetFigure(t("audit.assetBalance"), f.assetBalance, d, sym, "audit-asset-balance"),
        assetFigure(t("audit.surplus"), f.assetBalance - owed, d, sym, "audit-surplus"),
        figure(t("audit.price"), priceText(f.price, sym), { raw: f.price, testid: "audit-price" }),
      ),
      h(
        "p",
        { class: `verdict ${holds ? "ok" : "bad"}`, "data-testid": "audit-backing-verdict", "data-ok": String(holds) },
        holds ? t("audit.backing.holds") : t("audit.backing.fails"),
      ),
      caption(t(c.source === "wallet" ? "source.chainWallet" : "source.chainRpc", { block: f.block.toString() })),
    );
  }

  private renderMirror(): void {
    const el = this.els?.mirror;
    if (!el) return;
    const c = this.chain;
    const d = this.app.deployment.asset_decimals;
    const rows: HTMLElement[] = [];
    if (c?.atMirror && c.mirror) {
      const m = c.mirror;
      const pairs: [string, bigint, bigint, number][] = [
        [t("audit.reserve"), BigInt(m.reserve.raw), c.atMirror.reserve, d],
        [t("audit.supply"), BigInt(m.supply.raw), c.atMirror.supply, POINT_DECIMALS],
        [t("audit.taxAccrued"), BigInt(m.tax_accrued.raw), c.atMirror.taxAccrued, d],
        [t("audit.price"), BigInt(m.price.raw), c.atMirror.price, PRICE_DECIMALS],
      ];
      for (const [label, mirror, chain, decimals] of pairs) {
        const same = mirror === chain;
        rows.push(
          h(
            "tr",
            { "data-equal": String(same) },
            h("th", { scope: "row" }, label),
            h("td", { "data-raw": mirror.toString() }, formatUnits(mirror, decimals, locale(), 6)),
            h("td", { "data-raw": chain.toString() }, formatUnits(chain, decimals, locale(), 6)),
            h("td", {}, same ? t("audit.equal") : t("audit.differs")),
          ),
        );
      }
    }
    const a = this.audit;
    const statusKey = a ? (`audit.status.${a.status}` as const) : null;
    fill(
      el,
      rows.length
        ? h(
            "table",
            { "data-testid": "audit-mirror-table" },
            h("caption", {}, t("audit.mirror.caption", { block: String(c?.atMirror?.block ?? "") })),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, t("audit.figure")),
                h("th", { scope: "col" }, t("audit.mirrorValue")),
                h("th", { scope: "col" }, t("audit.chainValue")),
                h("th", { scope: "col" }, t("audit.result")),
              ),
            ),
            h("tbody", {}, ...rows),
          )
        : h("p", {}, t("audit.mirror.unavailable")),
      a && statusKey
        ? h(
            "p",
            { class: `verdict ${a.status === "ok" ? "ok" : a.status === "failed" ? "bad" : ""}`, "data-testid": "audit-status", "data-status": a.status },
            t(statusKey, { block: String(a.latest?.block_number ?? "—"), checks: String(a.latest?.checks.length ?? 0) }),
          )
        : null,
      a?.blocks_behind ? h("p", { class: "hint" }, t("audit.behind", { blocks: String(a.blocks_behind) })) : null,
      a?.latest && a.latest.differences.length
        ? h("ul", {}, ...a.latest.differences.map((d2) => h("li", {}, d2)))
        : null,
      this.auditError ? notice("error", this.auditError) : null,
    );
  }

  private renderFraud(c: ChainSide): void {
    // SPEC §5: poolShare ÷ ((1 − poolShare)(1 − fee)), as an 18-decimal price, rounded down.
    const share = BigInt(c.params.poolShareBps);
    const fee = BigInt(c.params.feeBps);
    const numerator = share * BPS;
    const denominator = (BPS - share) * (BPS - fee);
    const threshold = denominator === 0n ? 0n : (numerator * 10n ** BigInt(PRICE_DECIMALS)) / denominator;
    const price = c.head.price;
    const above = price * denominator > numerator * 10n ** BigInt(PRICE_DECIMALS);
    const sym = this.app.assetSymbol;
    fill(
      this.els!.fraud,
      figures(
        figure(t("audit.fraud.threshold"), priceText(threshold, sym), { raw: threshold, testid: "audit-threshold" }),
        figure(t("audit.price"), priceText(price, sym), { raw: price }),
      ),
      h(
        "p",
        { class: `verdict ${above ? "warn" : "ok"}`, "data-testid": "audit-fraud-verdict", "data-above": String(above) },
        above ? t("audit.fraud.above") : t("audit.fraud.below"),
      ),
      h("p", { class: "hint" }, t("audit.fraud.formula", { share: formatBps(share, locale()), fee: formatBps(fee, locale()) })),
    );
  }

  private renderParams(c: ChainSide): void {
    const p = c.params;
    const b = p.bounds;
    const pct = (bps: number) => formatBps(bps, locale());
    const pts = (raw: bigint) => formatUnits(raw, POINT_DECIMALS, locale(), 0);
    fill(
      this.els!.params,
      figures(
        figure(t("audit.params.fee"), pct(p.feeBps), { note: t("audit.bounds", { min: pct(0), max: pct(b.maxFeeBps) }), testid: "param-fee", raw: String(p.feeBps) }),
        figure(t("audit.params.tax"), pct(p.taxBps), { note: t("audit.boundsTax"), testid: "param-tax", raw: String(p.taxBps) }),
        figure(t("audit.params.poolShare"), pct(p.poolShareBps), {
          note: t("audit.bounds", { min: pct(b.minPoolShareBps), max: pct(b.maxPoolShareBps) }),
          testid: "param-pool-share",
          raw: String(p.poolShareBps),
        }),
        figure(t("audit.params.rate"), t("audit.bounds", { min: pct(b.minRateBps), max: pct(b.maxRateBps) }), { testid: "param-rate-bounds" }),
        figure(t("audit.params.globalCap"), pts(p.globalDailyCap), {
          note: t("audit.bounds", { min: pts(b.minDailyCap), max: pts(b.maxDailyCap) }),
          testid: "param-global-cap",
          raw: p.globalDailyCap,
        }),
        figure(t("audit.params.globalMinted"), formatUnits(p.globalMintedToday, POINT_DECIMALS, locale(), 6), { raw: p.globalMintedToday }),
        figure(t("audit.params.dailyCap"), t("audit.bounds", { min: pts(b.minDailyCap), max: pts(b.maxDailyCap) })),
        figure(t("audit.params.collector"), p.taxCollector, { testid: "param-collector" }),
        figure(t("audit.params.paused"), p.paused ? t("common.yes") : t("common.no"), { testid: "param-paused" }),
      ),
      h("p", { class: "hint" }, t("audit.params.note")),
    );
  }

  private renderGovernance(c: ChainSide): void {
    const g = c.governance;
    const explorer = this.app.deployment.explorer_url;
    const timelock = this.app.deployment.timelock;
    const adminIsTimelock = timelock !== null && g.defaultAdmin.toLowerCase() === timelock.toLowerCase();
    const roleList = h("ul", { class: "roles", "data-testid": "audit-roles" });
    for (const r of g.roles) {
      roleList.append(
        h(
          "li",
          { "data-role": `${r.contract}:${r.role}` },
          h("span", { class: "role" }, `${r.contract === "pool" ? t("audit.contracts.pool") : t("audit.contracts.timelock")} · ${r.role}`),
          r.holders.length ? h("span", {}, ...r.holders.flatMap((a) => [addressView(a, explorer), " "])) : h("span", {}, t("audit.noHolder")),
        ),
      );
    }
    fill(
      this.els!.governance,
      figures(
        figure(t("audit.governance.delay"), g.timelockDelay === null ? "—" : t("audit.seconds", { s: g.timelockDelay.toString() }), {
          testid: "audit-timelock-delay",
          raw: g.timelockDelay,
        }),
        figure(t("audit.governance.defaultAdmin"), g.defaultAdmin, { testid: "audit-default-admin" }),
        figure(t("audit.governance.adminDelay"), t("audit.seconds", { s: String(g.defaultAdminDelay) })),
        figure(
          t("audit.governance.pendingAdmin"),
          /^0x0{40}$/i.test(g.pendingAdmin) ? t("common.none") : g.pendingAdmin,
        ),
      ),
      h(
        "p",
        { class: `verdict ${adminIsTimelock ? "ok" : "warn"}` },
        adminIsTimelock ? t("audit.governance.adminIsTimelock") : t("audit.governance.adminNotTimelock"),
      ),
      roleList,
    );
  }

  private renderContracts(c: ChainSide): void {
    const dep = this.app.deployment;
    const explorer = dep.explorer_url;
    const codeOf = new Map(c.code.map((x) => [x.name, x]));
    const rows: [string, string, `0x${string}` | null][] = [
      ["DividendPool", t("audit.contracts.pool"), dep.pool],
      ["PointsToken", t("audit.contracts.points"), dep.points_token],
      ["asset", t("audit.contracts.asset"), dep.asset],
      ["TimelockController", t("audit.contracts.timelock"), dep.timelock],
    ];
    const list = h("ul", { class: "contracts", "data-testid": "audit-contracts" });
    for (const [name, label, address] of rows) {
      if (!address) continue;
      const code = codeOf.get(name);
      list.append(
        h(
          "li",
          { "data-contract": name },
          h("strong", {}, label),
          " ",
          addressView(address, explorer, true),
          code
            ? h(
                "span",
                { class: `verdict ${code.matches ? "ok" : "bad"}`, "data-matches": String(code.matches) },
                code.matches ? t("audit.code.matches", { compiler: code.compiler ?? "?", settings: code.settings ?? "" }) : t("audit.code.differs"),
              )
            : h("span", { class: "hint" }, t("audit.code.external")),
        ),
      );
    }
    fill(
      this.els!.contracts,
      list,
      h("p", { class: "hint" }, t("audit.bundle", { command: "greenpoints verify-bundle --out DIR" })),
      dep.admin_delay !== null ? caption(t("audit.deploymentDelay", { s: String(dep.admin_delay) })) : null,
    );
  }

  destroy(): void {}
}
