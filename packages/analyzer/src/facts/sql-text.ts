/**
 * Small readers and writers for the SQL text information_schema hands back: string literals,
 * ENUM/SET member lists, default expressions.
 */

/**
 * Reads one single-quoted SQL string literal starting at `start` (which must be a quote), with both
 * escape styles the servers print: doubled quotes ('it''s') and backslash escapes ('a\\b', '\n').
 * Returns the value and the index just past the closing quote, or undefined when it is not one.
 */
export function readStringLiteral(text: string, start = 0): { value: string; end: number } | undefined {
  if (text[start] !== "'") return undefined;
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === "\\" && i + 1 < text.length) {
      value += unescapeBackslash(text[i + 1] as string);
      i += 2;
    } else if (char === "'") {
      if (text[i + 1] === "'") {
        value += "'";
        i += 2;
      } else {
        return { value, end: i + 1 };
      }
    } else {
      value += char;
      i += 1;
    }
  }
  return undefined;
}

const BACKSLASH_ESCAPES: Record<string, string> = { "0": "\0", n: "\n", r: "\r", t: "\t", b: "\b", Z: "\x1a" };

function unescapeBackslash(char: string): string {
  return BACKSLASH_ESCAPES[char] ?? char;
}

/** The whole of `text` as one string literal's value, or undefined when it is anything else. */
export function parseStringLiteral(text: string): string | undefined {
  const literal = readStringLiteral(text.trim());
  return literal && literal.end === text.trim().length ? literal.value : undefined;
}

/** The one quoting facts use: single quotes, a quote inside doubled, nothing else escaped. */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The members of `enum('a','it''s')` / `set(...)` in order; [] when the type is not one. */
export function parseMembers(columnType: string): string[] {
  const open = columnType.indexOf("(");
  if (open < 0) return [];
  const members: string[] = [];
  let i = open + 1;
  while (i < columnType.length) {
    const literal = readStringLiteral(columnType, i);
    if (!literal) break;
    members.push(literal.value);
    i = literal.end;
    if (columnType[i] === ",") i += 1;
    else break;
  }
  return members;
}

/** A bare number, as both servers print numeric defaults: 0, -5, 1.5, 0.000000, 1e10. */
export function isNumberLiteral(text: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text);
}

/** b'101' or 0x1F. */
export function isBitLiteral(text: string): boolean {
  return /^b'[01]*'$/i.test(text) || /^0x[0-9a-f]+$/i.test(text);
}

/**
 * A default (or ON UPDATE) expression in one form for both servers: lower case outside quotes and
 * backticks; MySQL 8's character-set introducers (`_utf8mb4'x'`) and escaped quotes (`\'`) removed;
 * CURRENT_TIMESTAMP / NOW() / LOCALTIMESTAMP written `current_timestamp()` or `current_timestamp(3)`;
 * an expression that is only a string or number literal written as that literal.
 */
export function normaliseExpression(expression: string): string {
  let text = expression.trim();
  // MySQL 8 prints string literals inside expression defaults as _utf8mb4\'abc\'.
  if (text.includes("\\'")) text = text.replaceAll("\\'", "'");
  text = stripIntroducers(text);
  text = lowerOutsideQuotes(text);
  const bare = stripParentheses(text);
  const now = /^(current_timestamp|now|localtimestamp|localtime)(?:\(\s*(\d*)\s*\))?$/.exec(bare);
  if (now) {
    const fsp = now[2] && now[2] !== "0" ? now[2] : "";
    return `current_timestamp(${fsp})`;
  }
  const literal = parseStringLiteral(bare);
  if (literal !== undefined) return quoteString(literal);
  if (isNumberLiteral(bare)) return bare;
  return text;
}

/** `((x))` -> `x` when the outer parentheses enclose the whole text. */
export function stripParentheses(text: string): string {
  let current = text.trim();
  while (current.startsWith("(") && current.endsWith(")") && closingParenthesis(current, 0) === current.length - 1) {
    current = current.slice(1, -1).trim();
  }
  return current;
}

function closingParenthesis(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const char = text[i];
    if (char === "'") {
      const literal = readStringLiteral(text, i);
      if (!literal) return -1;
      i = literal.end - 1;
    } else if (char === "(") {
      depth += 1;
    } else if (char === ")") {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function stripIntroducers(text: string): string {
  return text.replace(/(^|[^\w`])_[a-z0-9]+(?=')/gi, "$1");
}

function lowerOutsideQuotes(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === "'") {
      const literal = readStringLiteral(text, i);
      const end = literal ? literal.end : text.length;
      out += text.slice(i, end);
      i = end;
    } else if (char === "`") {
      const close = text.indexOf("`", i + 1);
      const end = close < 0 ? text.length : close + 1;
      out += text.slice(i, end);
      i = end;
    } else {
      out += char.toLowerCase();
      i += 1;
    }
  }
  return out;
}
