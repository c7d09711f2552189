/**
 * Names the proposer gives: MySQL `order_items` -> entity `OrderItem`, key prefix `ORDER_ITEM`,
 * column `created_at` -> attribute `createdAt`. Names must match the contract's `^[A-Za-z_][A-Za-z0-9_]*$`,
 * so accents are dropped and names with no Latin letters get a stable stand-in.
 */
import { createHash } from "node:crypto";

/** Words split on non-alphanumerics and camel humps, accents removed. */
function words(name: string): string[] {
  const ascii = name.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  return ascii
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function standIn(name: string, prefix: string): string {
  return `${prefix}${createHash("sha1").update(name).digest("hex").slice(0, 6)}`;
}

const IRREGULAR: Record<string, string> = {
  people: "person",
  children: "child",
  men: "man",
  women: "woman",
  data: "data",
};

/** English singular of one lower-case word, for the usual table-name plurals. */
export function singular(word: string): string {
  if (IRREGULAR[word]) return IRREGULAR[word];
  if (/(ss|us|is)$/.test(word)) return word;
  if (/ies$/.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes|zzes)$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word) && word.length > 1) return word.slice(0, -1);
  return word;
}

const cap = (w: string) => (w ? w[0]?.toUpperCase() + w.slice(1) : w);

function leadingDigitSafe(name: string, prefix: string): string {
  return /^[0-9]/.test(name) ? `${prefix}${name}` : name;
}

/** `order_items` -> `OrderItem`. */
export function entityName(table: string): string {
  const parts = words(table);
  if (parts.length === 0) return standIn(table, "Table");
  const last = parts.length - 1;
  parts[last] = singular(parts[last] ?? "");
  return leadingDigitSafe(parts.map(cap).join(""), "T");
}

/** `created_at` -> `createdAt`. */
export function attributeName(column: string): string {
  const parts = words(column);
  if (parts.length === 0) return standIn(column, "col");
  return leadingDigitSafe(parts.map((w, i) => (i === 0 ? w : cap(w))).join(""), "c");
}

/** `OrderItem` -> `ORDER_ITEM`. */
export function keyPrefix(entity: string): string {
  return entity
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
}

/** `created_at` -> `CREATED_AT` (for index key literals). */
export function columnLiteral(attribute: string): string {
  return keyPrefix(attribute);
}

/** Plural for pattern names: `OrderItem` -> `OrderItems`, `Category` -> `Categories`. */
export function plural(entity: string): string {
  if (/[^aeiou]y$/.test(entity)) return `${entity.slice(0, -1)}ies`;
  if (/(s|x|ch|sh|z)$/.test(entity)) return `${entity}es`;
  return `${entity}s`;
}

/** Makes `name` unique against `taken` by appending 2, 3, ...; records the result. */
export function unique(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name}${n}`;
  taken.add(candidate);
  return candidate;
}
