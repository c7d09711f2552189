/**
 * Prices as the store keeps them: exact decimal strings with two places ("12.50"), never floats. Sums and products
 * are taken in cents (bigint).
 */

const PRICE = /^(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?$/;

/** "12.5" -> 1250n; undefined when the text is not a price (at most 99,999,999.99, two decimals). */
export function parseCents(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (!PRICE.test(trimmed)) return undefined;
  const [whole, fraction = ""] = trimmed.split(".");
  return BigInt(whole ?? "0") * 100n + BigInt(fraction.padEnd(2, "0"));
}

/** 1250n -> "12.50". */
export function formatCents(cents: bigint): string {
  const sign = cents < 0n ? "-" : "";
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** A stored price ("12.50", "12.5" or "12") in cents. */
export function cents(price: string): bigint {
  const value = parseCents(price);
  if (value === undefined) throw new Error(`not a price: ${price}`);
  return value;
}

/** "1234.5" -> "$1,234.50", as a page shows it. */
export function displayPrice(price: string | bigint): string {
  const text = typeof price === "bigint" ? formatCents(price) : formatCents(cents(price));
  const [whole = "0", fraction = "00"] = text.split(".");
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${fraction}`;
}
