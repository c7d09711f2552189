/** The store's tables as seeding sees them: names, load order, columns, and value formats. */

/** Parents before children (the order to create or load them; drop in reverse). */
export const STORE_TABLES = ["users", "categories", "products", "shopping_carts", "orders", "order_items"] as const;
export type StoreTable = (typeof STORE_TABLES)[number];

/** The columns seeding writes, in the order a row's cells come. */
export const COLUMNS: Readonly<Record<StoreTable, readonly string[]>> = {
  users: [
    "id",
    "username",
    "email",
    "password_hash",
    "first_name",
    "last_name",
    "is_seller",
    "created_at",
    "updated_at",
  ],
  categories: ["id", "parent_id", "name", "created_at"],
  products: [
    "id",
    "seller_id",
    "category_id",
    "name",
    "description",
    "price",
    "inventory_quantity",
    "image_url",
    "created_at",
    "updated_at",
  ],
  shopping_carts: ["id", "user_id", "product_id", "quantity", "created_at", "updated_at"],
  orders: ["id", "user_id", "total_amount", "status", "created_at", "updated_at"],
  order_items: ["id", "order_id", "product_id", "quantity", "price_at_time"],
};

/** One value as it goes to MySQL: numbers as they are, DECIMAL and DATETIME as strings, NULL as null. */
export type Cell = string | number | null;
export type RowCells = Cell[];

/**
 * The seeded data's "now": every timestamp is at or before it, so a data set is the same
 * whenever it is made.
 */
export const REFERENCE_TIME = Date.UTC(2025, 5, 1, 12, 0, 0);
export const DAY_MS = 86_400_000;

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const datePrefixes = new Map<number, string>();

/**
 * Milliseconds since the epoch as a DATETIME(3) literal in UTC: `2025-06-01 12:00:00.000`.
 * (Called millions of times by a synthetic load: the date part is cached per day.)
 */
export function sqlDateTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a timestamp: ${ms}`);
  const day = Math.floor(ms / DAY_MS);
  let prefix = datePrefixes.get(day);
  if (prefix === undefined) {
    prefix = `${new Date(day * DAY_MS).toISOString().slice(0, 10)} `;
    if (datePrefixes.size < 100_000) datePrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${prefix}${PAD2[hours]}:${PAD2[minutes]}:${PAD2[seconds]}.${PAD3[millis]}`;
}

/** Integer cents as an exact DECIMAL string: 12345 -> "123.45". */
export function centsToDecimal(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new RangeError(`not a cent amount: ${cents}`);
  const text = String(cents).padStart(3, "0");
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

/** An exact DECIMAL string as integer cents: "123.45" -> 12345 (at most two decimals). */
export function decimalToCents(value: string): number {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value);
  if (!match?.[1]) throw new RangeError(`not a decimal amount: ${value}`);
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}
