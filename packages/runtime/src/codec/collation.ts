/**
 * MySQL's case-insensitive collations (`_ci`, e.g. utf8mb4_unicode_ci) in DynamoDB: a text column compared, looked
 * up and kept unique under such a collation is folded the same way wherever ferry puts it in a key (key templates,
 * index keys, unique markers), so that DynamoDB finds, and refuses, what MySQL finds and refuses.
 */

/** Collations that compare case-insensitively (MySQL's and MariaDB's `_ci`, including `_ai_ci`). */
const CASE_INSENSITIVE = /_ci$/i;

export function isCaseInsensitive(collation: string | undefined): boolean {
  return collation !== undefined && CASE_INSENSITIVE.test(collation);
}

/**
 * A text as a `_ci` collation compares it: accents and case folded (NFKD without combining marks, then upper- and
 * lower-cased, so that ß and ss meet) and trailing spaces dropped (PAD SPACE). An approximation of the collation's
 * weights, not a copy of them: a few equivalences the collation makes (and no others) can differ.
 */
export function foldForCollation(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toUpperCase()
    .toLowerCase()
    .replace(/ +$/, "");
}
