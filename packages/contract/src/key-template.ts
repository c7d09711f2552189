/**
 * Key templates ("USER#{id}"): parsing, formatting, and whether two templates can produce the same key.
 * The runtime codec renders keys from the same parts, so there is one reading of a template everywhere.
 */

import type { KeyTemplate } from "./model.ts";

/** A piece of a key template: literal text, or a placeholder naming an attribute. `offset` is where it starts in the template. */
export type KeyTemplatePart = { literal: string; offset: number } | { placeholder: string; offset: number };

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A malformed key template; `offset` is the position of the offending character. */
export class KeyTemplateError extends Error {
  override readonly name = "KeyTemplateError";
  constructor(
    message: string,
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Splits a template into literal and placeholder parts. `{{` and `}}` are literal braces; adjacent literal text is
 * one part. Throws a KeyTemplateError for an unclosed `{`, a lone `}`, or a placeholder that is not an attribute name.
 */
export function parseKeyTemplate(template: KeyTemplate): KeyTemplatePart[] {
  const parts: KeyTemplatePart[] = [];
  let literal = "";
  let literalStart = 0;
  const flush = (next: number) => {
    if (literal) parts.push({ literal, offset: literalStart });
    literal = "";
    literalStart = next;
  };
  let i = 0;
  while (i < template.length) {
    const char = template[i];
    const next = template[i + 1];
    if (char === "{" && next === "{") {
      literal += "{";
      i += 2;
    } else if (char === "}" && next === "}") {
      literal += "}";
      i += 2;
    } else if (char === "}") {
      throw new KeyTemplateError(`unmatched '}'`, i, "write '}}' for a literal brace");
    } else if (char === "{") {
      const close = template.indexOf("}", i + 1);
      const inner = close === -1 ? -1 : template.indexOf("{", i + 1);
      if (close === -1 || (inner !== -1 && inner < close)) {
        throw new KeyTemplateError(
          `unclosed '{'`,
          i,
          "close the placeholder with '}', or write '{{' for a literal brace",
        );
      }
      const name = template.slice(i + 1, close);
      if (name === "") {
        throw new KeyTemplateError("empty placeholder '{}'", i, "put an attribute name between the braces, e.g. {id}");
      }
      if (!PLACEHOLDER_NAME.test(name)) {
        throw new KeyTemplateError(
          `invalid placeholder '{${name}}'`,
          i,
          "a placeholder is an attribute name, e.g. {id}",
        );
      }
      flush(i);
      parts.push({ placeholder: name, offset: i });
      i = close + 1;
      literalStart = i;
    } else {
      literal += char;
      i += 1;
    }
  }
  flush(i);
  return parts;
}

/** The attribute names a template's placeholders use, in order of first use. */
export function keyTemplatePlaceholders(template: KeyTemplate): string[] {
  const names: string[] = [];
  for (const part of parseKeyTemplate(template)) {
    if ("placeholder" in part && !names.includes(part.placeholder)) names.push(part.placeholder);
  }
  return names;
}

/** Writes parts back as a template (literal braces doubled): the canonical spelling of a template. */
export function formatKeyTemplate(parts: readonly KeyTemplatePart[]): KeyTemplate {
  return parts
    .map((part) => ("placeholder" in part ? `{${part.placeholder}}` : part.literal.replace(/[{}]/g, "$&$&")))
    .join("");
}

/** One step of a template seen as a pattern: a literal character, exactly one character, or any run of characters. */
type Token = { char: string } | "one" | "many";

function tokens(template: KeyTemplate | undefined): Token[] {
  if (template === undefined) return [];
  return parseKeyTemplate(template).flatMap((part): Token[] =>
    "literal" in part ? Array.from(part.literal, (char) => ({ char })) : ["one", "many"],
  );
}

/**
 * Whether two templates can render the same string, treating every placeholder as any non-empty string
 * ("USER#{id}" and "USER#{userId}" can; "USER#{id}" and "ORDER#{id}" cannot; "A#{x}#B" and "A#{y}" can, as y may
 * be "…#B"). An absent template is the empty string. Throws a KeyTemplateError for a malformed template.
 */
export function templatesCanCollide(a: KeyTemplate | undefined, b: KeyTemplate | undefined): boolean {
  const left = tokens(a);
  const right = tokens(b);
  // Reachable (i, j): some string takes `left` to position i and `right` to position j. Search over the product.
  const width = right.length + 1;
  const seen = new Uint8Array((left.length + 1) * width);
  const stack: Array<[number, number]> = [[0, 0]];
  const visit = (i: number, j: number) => {
    if (!seen[i * width + j]) {
      seen[i * width + j] = 1;
      stack.push([i, j]);
    }
  };
  seen[0] = 1;
  while (stack.length > 0) {
    const [i, j] = stack.pop() ?? [0, 0];
    if (i === left.length && j === right.length) return true;
    const x = left[i];
    const y = right[j];
    // A run may stop here (match nothing more).
    if (x === "many") visit(i + 1, j);
    if (y === "many") visit(i, j + 1);
    // Or both read one more character, the same one.
    if (x !== undefined && y !== undefined) {
      const compatible = typeof x === "string" || typeof y === "string" || x.char === y.char;
      if (compatible) visit(x === "many" ? i : i + 1, y === "many" ? j : j + 1);
    }
  }
  return false;
}
