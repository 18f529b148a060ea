// Start-up: read the deployment from the API (retrying while it is unreachable), then mount the
// shell and the view named by the location's hash.
import { Api } from "./api";
import { App } from "./app";
import { describeError } from "./errors";
import { locale, onLocaleChange, t } from "./i18n";
import { Shell, VIEWS } from "./shell";
import { fill, h } from "./ui/dom";
import { AuditorView } from "./views/auditor";
import { CustomerView } from "./views/customer";
import { MerchantView } from "./views/merchant";
import type { View, ViewId } from "./views/view";

const RETRY_MS = 3000;

function viewFromHash(): ViewId {
  const id = window.location.hash.replace(/^#/, "");
  return VIEWS.some((v) => v.id === id) ? (id as ViewId) : "customer";
}

async function start(root: HTMLElement): Promise<void> {
  document.documentElement.lang = locale();
  const api = new Api();
  let deployment;
  for (;;) {
    try {
      deployment = await api.deployment();
      break;
    } catch (exc) {
      fill(
        root,
        h("main", { id: "main" }, h("h1", {}, t("app.title")), h("p", { class: "notice error", role: "alert", "data-testid": "startup-error" }, describeError(exc, { assetDecimals: 0, assetSymbol: "" }))),
      );
      await new Promise((resolve) => window.setTimeout(resolve, RETRY_MS));
    }
  }
  const app = new App(api, deployment);
  await app.readAssetSymbol();
  const views: Record<ViewId, View> = {
    customer: new CustomerView(app),
    merchant: new MerchantView(app),
    auditor: new AuditorView(app),
  };
  let current: View = views[viewFromHash()];
  const shell = new Shell(app, () => current.id);
  const main = h("main", { id: "main", tabindex: "-1" });
  const skip = h("a", { href: "#main", class: "skip", "on:click": (e: Event) => { e.preventDefault(); main.focus(); } }, t("app.skip"));
  const footer = h("footer", { class: "credits" });
  const renderFooter = () =>
    fill(footer, ...t("app.chartsCredit", { product: "\u0000" }).split("\u0000").flatMap((part, i) => [
      i ? h("a", { href: "https://www.tradingview.com/", rel: "noopener noreferrer" }, "TradingView Lightweight Charts™") : null,
      part,
    ]));
  renderFooter();
  fill(root, skip, shell.header, shell.banner, shell.statusLine, shell.nav, main, footer);

  const show = (view: View) => {
    current.destroy();
    current = view;
    main.replaceChildren(view.root);
    view.render();
    document.title = `${t(VIEWS.find((v) => v.id === view.id)!.label)} · ${t("app.title")}`;
    shell.renderNav();
    void view.refresh("wallet");
  };

  window.addEventListener("hashchange", () => {
    const next = views[viewFromHash()];
    if (next !== current) {
      show(next);
      main.focus();
    }
  });
  onLocaleChange(() => {
    skip.textContent = t("app.skip");
    renderFooter();
    shell.render();
    show(current);
  });
  app.session.onChange(() => {
    shell.render();
    void app.readAssetSymbol();
    void current.refresh("wallet");
    void app.poll();
  });
  let lastHead: bigint | null = null;
  app.onStatus((indexedChanged) => {
    shell.renderStatus();
    const headChanged = app.status.chainHead !== lastHead;
    lastHead = app.status.chainHead;
    if (indexedChanged) void current.refresh("indexed");
    else if (headChanged) void current.refresh("head");
  });
  shell.start();
  show(current);
  app.start();
  document.body.dataset.ready = "true";
}

void start(document.getElementById("app")!);
