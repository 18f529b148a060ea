// The page around the views: title, language switch, wallets (EIP-6963 list, connect, account,
// wrong-chain switch), the mirror's status line (indexed block, head, lag) and the navigation.
import type { App } from "./app";
import { describeError } from "./errors";
import { LOCALES, locale, setLocale, t, type Locale, type MessageKey } from "./i18n";
import { fill, h } from "./ui/dom";
import { shortAddress, notice } from "./ui/parts";
import { discoverWallets, INJECTED_RDNS, type WalletOption } from "./wallet/discovery";
import type { ViewId } from "./views/view";

const LANGUAGE_NAMES: Record<Locale, string> = { en: "English", "zh-CN": "简体中文" };
export const VIEWS: { id: ViewId; label: MessageKey }[] = [
  { id: "customer", label: "nav.customer" },
  { id: "merchant", label: "nav.merchant" },
  { id: "auditor", label: "nav.auditor" },
];

export class Shell {
  readonly header = h("header", { class: "top" });
  readonly statusLine = h("div", { class: "status-line", role: "status", "data-testid": "mirror-status" });
  readonly banner = h("div", { class: "banner" });
  readonly nav = h("nav", { class: "tabs" });
  wallets: WalletOption[] = [];
  private walletMessage: string | null = null;
  private busy = false;

  constructor(
    private readonly app: App,
    private readonly current: () => ViewId,
  ) {}

  start(): void {
    discoverWallets((wallets) => {
      this.wallets = wallets;
      void this.app.session.resume(wallets);
      this.renderHeader();
    });
    this.render();
  }

  render(): void {
    this.renderHeader();
    this.renderStatus();
    this.renderBanner();
    this.renderNav();
  }

  renderHeader(): void {
    const select = h(
      "select",
      { id: "language", "data-testid": "language" },
      ...LOCALES.map((l) => h("option", { value: l, selected: l === locale(), lang: l }, LANGUAGE_NAMES[l])),
    );
    select.addEventListener("change", () => setLocale(select.value as Locale));
    const focused = document.activeElement?.id === "language";
    fill(
      this.header,
      h("div", { class: "brand" }, h("h1", {}, t("app.title")), h("p", { class: "tagline" }, t("app.tagline"))),
      h("div", { class: "header-controls" }, h("label", { for: "language", class: "language-label" }, t("app.language")), select),
      this.walletArea(),
    );
    if (focused) select.focus();
  }

  private walletArea(): HTMLElement {
    const session = this.app.session;
    const area = h("div", { class: "wallet", "data-testid": "wallet" });
    if (session.connected && session.account) {
      const name = session.option?.info.name || t("wallet.injected");
      area.append(
        h("span", { class: "account", title: session.account, "data-testid": "account", "data-address": session.account }, shortAddress(session.account)),
        h("span", { class: "hint" }, t("wallet.via", { name, chain: String(session.chainId ?? "?") })),
        h("button", { type: "button", "data-testid": "disconnect", "on:click": () => session.disconnect() }, t("wallet.disconnect")),
      );
    } else if (this.wallets.length === 0) {
      area.append(h("p", { class: "hint", "data-testid": "no-wallet" }, t("wallet.none")));
    } else {
      const list = h("ul", { class: "wallet-list", "aria-label": t("wallet.choose") });
      for (const w of this.wallets) {
        const label = w.info.rdns === INJECTED_RDNS ? t("wallet.injected") : w.info.name;
        list.append(
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "primary",
                "data-testid": `connect-${w.info.rdns}`,
                disabled: this.busy,
                "on:click": () => void this.connect(w),
              },
              w.info.icon && /^data:image\//.test(w.info.icon) ? h("img", { src: w.info.icon, alt: "", width: 20, height: 20 }) : null,
              t("wallet.connect", { name: label }),
            ),
          ),
        );
      }
      area.append(list);
    }
    if (this.walletMessage) area.append(notice("error", this.walletMessage, "wallet-error"));
    return area;
  }

  private async connect(option: WalletOption): Promise<void> {
    this.busy = true;
    this.walletMessage = null;
    this.renderHeader();
    try {
      await this.app.session.connect(option);
    } catch (exc) {
      this.walletMessage = describeError(exc, this.app.errorContext());
    }
    this.busy = false;
    this.renderHeader();
  }

  renderBanner(): void {
    const session = this.app.session;
    if (!session.connected || session.onRightChain) {
      fill(this.banner);
      return;
    }
    const button = h(
      "button",
      {
        type: "button",
        class: "primary",
        "data-testid": "switch-chain",
        "on:click": async () => {
          button.disabled = true;
          try {
            await session.switchChain();
            this.walletMessage = null;
          } catch (exc) {
            this.walletMessage = describeError(exc, this.app.errorContext());
            this.renderHeader();
          }
          button.disabled = false;
        },
      },
      t("wallet.switch"),
    );
    fill(
      this.banner,
      h(
        "div",
        { class: "notice error", role: "alert", "data-testid": "wrong-chain" },
        h("span", {}, t("error.wrongChain", { have: String(session.chainId ?? "?"), want: String(this.app.deployment.chain_id) })),
        " ",
        button,
      ),
    );
  }

  renderStatus(): void {
    const s = this.app.status;
    const parts: (string | HTMLElement)[] = [];
    if (s.error) {
      parts.push(h("span", { class: "bad", "data-testid": "api-status", "data-state": s.error.kind }, describeError(s.error, this.app.errorContext())));
    }
    if (s.pool) {
      const indexed = s.pool.indexed_block.number;
      const head = s.chainHead !== null ? Number(s.chainHead) : s.pool.head_block;
      const lag = head !== null ? Math.max(0, head - indexed) : s.pool.lag_blocks;
      parts.push(
        h(
          "span",
          { "data-testid": "indexed-block", "data-block": String(indexed), "data-lag": String(lag ?? "") },
          s.error
            ? t("status.lastKnown", { block: String(indexed) })
            : t("status.indexed", { block: String(indexed), head: head === null ? "—" : String(head), lag: lag === null ? "—" : String(lag) }),
        ),
      );
      if (s.pool.halted_reason) parts.push(h("span", { class: "bad" }, t("status.halted", { reason: s.pool.halted_reason })));
    } else if (!s.error) {
      parts.push(t("common.loading"));
    }
    fill(this.statusLine, ...parts.flatMap((p, i) => (i ? [" · ", p] : [p])));
    this.statusLine.dataset.apiOk = String(s.error === null);
  }

  renderNav(): void {
    const list = h("ul", {});
    for (const v of VIEWS) {
      list.append(
        h(
          "li",
          {},
          h("a", { href: `#${v.id}`, "aria-current": v.id === this.current() ? "page" : null, "data-testid": `nav-${v.id}` }, t(v.label)),
        ),
      );
    }
    this.nav.setAttribute("aria-label", t("nav.label"));
    fill(this.nav, list);
  }
}
