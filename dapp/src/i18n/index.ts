// The string tables (en.json, zh-CN.json, the same keys: the type below and a test check it),
// the chosen language (remembered in localStorage), and `t(key, params)`.
import en from "./en.json";
import zh from "./zh-CN.json";

export type MessageKey = keyof typeof en;
export type Locale = "en" | "zh-CN";

const TABLES: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zh };
export const LOCALES: Locale[] = ["en", "zh-CN"];
const STORAGE_KEY = "greenpoints.locale";
/** Shown for a key a table lacks, so a test (and a person) can find it. */
export const MISSING = "⟦";

function initialLocale(): Locale {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (stored === "en" || stored === "zh-CN") return stored;
  } catch {
    // storage disabled: fall through to the browser's language
  }
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

let current: Locale = initialLocale();
const listeners: (() => void)[] = [];

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale): void {
  current = next;
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered, still switched
  }
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

export function onLocaleChange(listener: () => void): void {
  listeners.push(listener);
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = TABLES[current][key];
  if (template === undefined || template === "") return `${MISSING}${key}⟧`;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
