/**
 * The English of generated comments: "a" or "an" by how a name is said, lists ("a, b and c"), plurals, and doc text
 * wrapped so that no generated line is wider than the formatter's.
 */

/** Biome's line width (biome.json): no generated line is wider. */
export const LINE_WIDTH = 120;

/** Letters whose names start with a vowel sound: "an SKU", "an HTML page", "an FAQ" (but "a URL", "a UUID"). */
const VOWEL_SOUND_LETTERS = new Set("AEFHILMNORSX");

/** Words spelt with a consonant and said with a vowel: "an hour", "an honest", "an heir". */
const SILENT_H = /^(hour|honest|honou?r|heir)/;

/**
 * Words spelt with a vowel and said with a consonant: "a user", "a unit", "a unique", "a usage", "a euro", "a one".
 * A "u" then one consonant then a vowel sounds like "you" (user, utility), except after the "un" of a negation
 * (unordered, unable), which "uni" (unit, union, unique) is not.
 */
const CONSONANT_SOUND = /^(uni|u[bcdfgjklmpqrstvz][aeiouy]|eu|ewe|one($|[^a-z]|time))/;

/** "a" or "an" before a name, by how it is said: "an OrderItem", "an Order", "a User", "an Item", "an SKU". */
export function article(name: string): "a" | "an" {
  if (/^[A-Z]{2}/.test(name)) return VOWEL_SOUND_LETTERS.has(name.charAt(0)) ? "an" : "a";
  if (/^[0-9]/.test(name)) return /^(8|11|18)(\D|$)/.test(name) ? "an" : "a";
  const word = name.toLowerCase();
  if (SILENT_H.test(word)) return "an";
  if (CONSONANT_SOUND.test(word)) return "a";
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** The name after its article: "an OrderItem", "a User". */
export const withArticle = (name: string): string => `${article(name)} ${name}`;

/** "a", "a and b", "a, b and c". */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** English plural of an entity name: `OrderItem` -> `OrderItems`, `Category` -> `Categories`. */
export function pluralOf(name: string): string {
  if (/[^aeiou]y$/.test(name)) return `${name.slice(0, -1)}ies`;
  if (/(s|x|ch|sh|z)$/.test(name)) return `${name}es`;
  return `${name}s`;
}

export const lowerFirst = (name: string): string => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
export const upperFirst = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

/**
 * Wraps text to `width` columns at spaces: lines stay lines (blank ones separate paragraphs), a list item ("- ",
 * "1. ") continues under its text, and a word longer than the width stands alone on its line.
 */
export function wrap(text: string, width: number): string {
  return text
    .split("\n")
    .flatMap((line) => wrapLine(line, width))
    .join("\n");
}

function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const marker = /^\s*(?:[-*]|\d+\.)\s+/.exec(line)?.[0] ?? /^\s*/.exec(line)?.[0] ?? "";
  const hanging = " ".repeat(marker.length);
  const lines: string[] = [];
  let current = marker;
  let empty = true;
  for (const word of line.slice(marker.length).split(/ +/)) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = hanging + word;
    } else {
      current = empty ? current + word : `${current} ${word}`;
    }
    empty = false;
  }
  lines.push(current);
  return lines;
}

/**
 * Doc comment text for a declaration indented `indent` columns, wrapped so that its comment fits the line width
 * however it is printed (`/** text *\/` on one line, or ` * text` lines).
 */
export function docText(text: string, indent: number): string {
  return wrap(text, LINE_WIDTH - indent - "/** ".length - " */".length);
}
