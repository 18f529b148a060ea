// Building blocks of the views: cards, labelled fields, figures that carry their exact value,
// addresses and times formatted for the chosen language.
import { locale, t, type MessageKey } from "../i18n";
import { exactUnits, formatUnits, POINT_DECIMALS, PRICE_DECIMALS } from "../units";
import { h, uid, type Child } from "./dom";

export function card(id: string, title: MessageKey, ...children: Child[]): HTMLElement {
  const headingId = `${id}-title`;
  return h(
    "section",
    { class: "card", id, "aria-labelledby": headingId, "data-testid": id },
    h("h2", { id: headingId }, t(title)),
    ...children,
  );
}

/** "source · block N" under a card's figures, so a figure is never shown without its moment. */
export function caption(text: string, testid?: string): HTMLElement {
  return h("p", { class: "caption", "data-testid": testid }, text);
}

export interface FigureOptions {
  raw?: bigint | string | null;
  exact?: string;
  testid?: string;
  note?: string;
}

export function figure(label: string, value: string, opts: FigureOptions = {}): HTMLElement {
  return h(
    "div",
    { class: "figure" },
    h("dt", {}, label),
    h(
      "dd",
      { "data-testid": opts.testid, "data-raw": opts.raw?.toString(), title: opts.exact },
      value,
      opts.note ? h("span", { class: "note" }, ` ${opts.note}`) : null,
    ),
  );
}

export function figures(...items: Child[]): HTMLElement {
  return h("dl", { class: "figures" }, ...items);
}

export function pointsText(raw: bigint, fraction = 6): string {
  return formatUnits(raw, POINT_DECIMALS, locale(), fraction);
}

export function assetText(raw: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(raw, decimals, locale())}${symbol ? ` ${symbol}` : ""}`;
}

export function priceText(raw: bigint, symbol: string): string {
  return `${formatUnits(raw, PRICE_DECIMALS, locale(), 6)}${symbol ? ` ${symbol}` : ""}`;
}

export function pointsFigure(label: string, raw: bigint, testid: string): HTMLElement {
  return figure(label, pointsText(raw), { raw, exact: exactUnits(raw, POINT_DECIMALS), testid });
}

export function assetFigure(label: string, raw: bigint, decimals: number, symbol: string, testid: string): HTMLElement {
  return figure(label, assetText(raw, decimals, symbol), { raw, exact: exactUnits(raw, decimals), testid });
}

export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

export function addressView(address: string, explorer: string | null, full = false): HTMLElement {
  const text = full ? address : shortAddress(address);
  const base = explorer?.replace(/\/$/, "");
  return base
    ? h("a", { href: `${base}/address/${address}`, title: address, rel: "noopener noreferrer", class: "address" }, text)
    : h("code", { title: address, class: "address" }, text);
}

export function timeText(timestamp: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(timestamp * 1000),
  );
}

export function integerText(value: bigint | number): string {
  return new Intl.NumberFormat(locale()).format(value);
}

export interface FieldOptions {
  label: string;
  hint?: string;
  input: HTMLInputElement | HTMLSelectElement;
  after?: Child;
}

/** A labelled control with its hint and its error line, wired with aria-describedby. */
export function field(opts: FieldOptions): { el: HTMLElement; setError: (text: string | null) => void } {
  const id = opts.input.id || uid("field");
  opts.input.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const error = h("p", { class: "field-error", id: errorId, "aria-live": "polite" });
  opts.input.setAttribute("aria-describedby", opts.hint ? `${hintId} ${errorId}` : errorId);
  const el = h(
    "div",
    { class: "field" },
    h("label", { for: id }, opts.label),
    h("div", { class: "field-row" }, opts.input, opts.after ?? null),
    opts.hint ? h("p", { class: "hint", id: hintId }, opts.hint) : null,
    error,
  );
  return {
    el,
    setError(text: string | null) {
      error.textContent = text ?? "";
      if (text) opts.input.setAttribute("aria-invalid", "true");
      else opts.input.removeAttribute("aria-invalid");
    },
  };
}

export function textInput(name: string, value: string, attrs: Record<string, string> = {}): HTMLInputElement {
  return h("input", { type: "text", name, value, autocomplete: "off", spellcheck: "false", ...attrs });
}

export function notice(kind: "info" | "warn" | "error", text: string, testid?: string): HTMLElement {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "note", "data-testid": testid }, text);
}
