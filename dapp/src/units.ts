// Amounts are BigInt end to end: parsed from the integer strings of the API and the chain, and
// formatted here with the locale's grouping and decimal separator. No float ever holds money.

export const POINT_DECIMALS = 18;
export const PRICE_DECIMALS = 18;
export const BPS = 10_000n;

const separators = new Map<string, string>();

function decimalSeparator(locale: string): string {
  let sep = separators.get(locale);
  if (sep === undefined) {
    sep = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
    separators.set(locale, sep);
  }
  return sep;
}

/** `raw` base units of a `decimals`-decimal amount, cut (toward zero) to `maxFraction` digits. */
export function formatUnits(raw: bigint, decimals: number, locale: string, maxFraction = decimals): string {
  const negative = raw < 0n;
  const abs = negative ? -raw : raw;
  const unit = 10n ** BigInt(decimals);
  const whole = abs / unit;
  let fraction = (abs % unit).toString().padStart(decimals, "0").slice(0, maxFraction).replace(/0+$/, "");
  const wholeText = new Intl.NumberFormat(locale, { useGrouping: true }).format(whole);
  if (fraction.length === 0) fraction = "";
  const sign = negative ? "−" : "";
  return fraction ? `${sign}${wholeText}${decimalSeparator(locale)}${fraction}` : `${sign}${wholeText}`;
}

/** The exact decimal of `raw` (no grouping, "." separator): for titles and the tests. */
export function exactUnits(raw: bigint, decimals: number): string {
  const negative = raw < 0n;
  const abs = negative ? -raw : raw;
  const unit = 10n ** BigInt(decimals);
  const fraction = (abs % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${abs / unit}${fraction ? `.${fraction}` : ""}`;
}

/** Basis points as a percentage: 1000 → "10%", 25 → "0.25%". */
export function formatBps(bps: bigint | number, locale: string): string {
  return `${formatUnits(BigInt(bps), 2, locale)}%`;
}

export type ParseResult = { ok: true; value: bigint } | { ok: false; error: "empty" | "format" | "decimals" | "zero" };

/** A user's decimal text in `decimals` units; refuses more decimals than the unit has (no rounding). */
export function parseAmount(text: string, decimals: number): ParseResult {
  const trimmed = text.trim().replace(/[\s_]/g, "");
  if (trimmed === "") return { ok: false, error: "empty" };
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed) ?? /^()\.(\d+)$/.exec(trimmed);
  if (!match) return { ok: false, error: "format" };
  const whole = match[1] || "0";
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) return { ok: false, error: "decimals" };
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (value === 0n) return { ok: false, error: "zero" };
  return { ok: true, value };
}

/** A price change in basis points, rounded toward zero: (now − then) ÷ then. */
export function changeBps(now: bigint, then: bigint): bigint | null {
  if (then === 0n) return null;
  return ((now - then) * BPS) / then;
}

/** Points at face value in the reserve asset (1 point = 1 unit), rounded down. */
export function faceValue(points: bigint, assetDecimals: number): bigint {
  return (points * 10n ** BigInt(assetDecimals)) / 10n ** BigInt(POINT_DECIMALS);
}

/** A plotting number from an exact decimal string: charts may use floats, money may not. */
export function plotValue(decimal: string): number {
  return Number(decimal);
}
