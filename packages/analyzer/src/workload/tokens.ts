/**
 * A hand-written MySQL lexer: one pass over the characters, no regular expressions, comments
 * dropped. It is the first step of both normalisation and shape extraction, and it runs for every
 * statement in a log, so it is written for speed.
 */

export type TokenType =
  /** An unquoted word: keyword or identifier (`text` as written). */
  | "word"
  /** A backtick-quoted identifier (`text` is the name, unescaped). */
  | "quoted"
  /** A '...' or "..." string, also N'..', _charset'..' (`text` is the raw source, quotes included). */
  | "string"
  /** 12, 1.5e3, .5, 0x1F, X'1F', 0b101, b'101'. */
  | "number"
  /** A `?` placeholder. */
  | "param"
  /** `...`: a list of values a server already collapsed (performance_schema digest text). */
  | "ellipsis"
  /** @user_variable, @@system.variable. */
  | "variable"
  /** Operators and punctuation: ( ) , . ; = <=> <= >= <> != < > + - * / % etc. */
  | "op";

/** How normalisation classifies a token (see normalize.ts). */
export type TokenKind = "keyword" | "identifier" | "value" | "variable" | "op";

export interface Token {
  type: TokenType;
  /** The source text (for a quoted identifier, the name, unquoted and unescaped). */
  raw: string;
  /** Offset of the token's first character in the statement. */
  start: number;
  /** Offset just past the token's last character. */
  end: number;
  /** Set by `classify` (normalize.ts); before that "op". */
  kind: TokenKind;
  /** Set by `classify`: a keyword in upper case, an identifier's name, "?" for a value, else the source text. */
  text: string;
  /** Set by `classify`: a keyword used as a function name (a `(` follows). */
  fn: boolean;
}

function token(type: TokenType, raw: string, start: number, end: number): Token {
  return { type, raw, start, end, kind: "op", text: raw, fn: false };
}

const SPACE = 1;
const WORD = 2;
const DIGIT = 4;
const HEX = 8;

/** Character classes for the ASCII range (non-ASCII characters are word characters). */
const CLASS = new Uint8Array(128);
for (const c of " \t\n\r\f\v") CLASS[c.charCodeAt(0)] = SPACE;
for (let c = 48; c <= 57; c++) CLASS[c] = WORD | DIGIT | HEX;
for (let c = 65; c <= 90; c++) CLASS[c] = WORD | (c <= 70 ? HEX : 0);
for (let c = 97; c <= 122; c++) CLASS[c] = WORD | (c <= 102 ? HEX : 0);
CLASS[95] = WORD; // _
CLASS[36] = WORD; // $

function charClass(code: number): number {
  return code < 128 ? (CLASS[code] ?? 0) : WORD;
}

/** One-character strings by character code (no slicing for the commonest tokens). */
const ONE_CHAR = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));

/** Splits a statement into tokens. Never throws: an unterminated string or comment runs to the end. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const code = sql.charCodeAt(i);
    if (code === 32) {
      i++;
      continue;
    }
    const cls = code < 128 ? (CLASS[code] as number) : WORD;
    if (cls & SPACE) {
      i++;
      continue;
    }
    const start = i;

    // Comments: -- (followed by a space or the end), #, /* */ (/*! ... */ is executed by MySQL: its body is kept).
    if (code === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      const after = sql.charCodeAt(i + 2);
      if (Number.isNaN(after) || after <= 32) {
        i = skipLine(sql, i + 2);
        continue;
      }
    }
    if (code === 35 /* # */) {
      i = skipLine(sql, i + 1);
      continue;
    }
    if (code === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      if (sql.charCodeAt(i + 2) === 33 /* ! */) {
        // Executable comment: drop the markers (and the version number), keep the body.
        let j = i + 3;
        while (j < n && charClass(sql.charCodeAt(j)) & DIGIT) j++;
        const close = sql.indexOf("*/", j);
        const body = sql.slice(j, close < 0 ? n : close);
        for (const inner of tokenize(body)) {
          inner.start += j;
          inner.end += j;
          tokens.push(inner);
        }
        i = close < 0 ? n : close + 2;
        continue;
      }
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }

    if (code === 39 /* ' */ || code === 34 /* " */) {
      i = skipString(sql, i, code);
      tokens.push(token("string", sql.slice(start, i), start, i));
      continue;
    }
    if (code === 96 /* ` */) {
      let name = "";
      let j = i + 1;
      let from = j;
      while (j < n) {
        if (sql.charCodeAt(j) === 96) {
          if (sql.charCodeAt(j + 1) === 96) {
            name += `${sql.slice(from, j)}\``;
            j += 2;
            from = j;
            continue;
          }
          break;
        }
        j++;
      }
      name += sql.slice(from, j);
      i = Math.min(j + 1, n);
      tokens.push(token("quoted", name, start, i));
      continue;
    }
    if (code === 63 /* ? */) {
      i++;
      tokens.push(token("param", "?", start, i));
      continue;
    }
    if (code === 64 /* @ */) {
      let j = i + 1;
      if (sql.charCodeAt(j) === 64) j++;
      const q = sql.charCodeAt(j);
      if (q === 96 || q === 39 || q === 34) {
        // @`name`, @'name'
        j = q === 96 ? Math.min(sql.indexOf("`", j + 1) + 1 || n, n) : skipString(sql, j, q);
      } else {
        while (j < n) {
          const c = sql.charCodeAt(j);
          if (charClass(c) & WORD || c === 46 /* . */) j++;
          else break;
        }
      }
      i = j;
      tokens.push(token("variable", sql.slice(start, i), start, i));
      continue;
    }

    const next = sql.charCodeAt(i + 1);
    if (cls & DIGIT || (code === 46 /* . */ && charClass(next) & DIGIT && !afterName(tokens, start))) {
      i = scanNumber(sql, i);
      // MySQL allows identifiers that start with digits (1st_column): a number run into letters is a word.
      if (i < n && charClass(sql.charCodeAt(i)) & WORD) {
        while (i < n && charClass(sql.charCodeAt(i)) & WORD) i++;
        tokens.push(token("word", sql.slice(start, i), start, i));
      } else {
        tokens.push(token("number", sql.slice(start, i), start, i));
      }
      continue;
    }
    if (cls & WORD) {
      // Prefixed literals: X'1F', B'101', N'text', _utf8mb4'text'.
      if (next === 39 && (code === 120 || code === 88 || code === 98 || code === 66)) {
        i = skipString(sql, i + 1, 39);
        tokens.push(token("number", sql.slice(start, i), start, i));
        continue;
      }
      if ((next === 39 || next === 34) && (code === 110 || code === 78)) {
        i = skipString(sql, i + 1, next);
        tokens.push(token("string", sql.slice(start, i), start, i));
        continue;
      }
      let j = i + 1;
      while (j < n) {
        const c = sql.charCodeAt(j);
        if (c < 128 && ((CLASS[c] as number) & WORD) === 0) break;
        j++;
      }
      const q = sql.charCodeAt(j);
      if (code === 95 /* _ */ && (q === 39 || q === 34)) {
        i = skipString(sql, j, q);
        tokens.push(token("string", sql.slice(start, i), start, i));
        continue;
      }
      i = j;
      tokens.push(token("word", sql.slice(start, i), start, i));
      continue;
    }

    // Operators: the longest match of <=> ->> ... <= >= <> != := || && << >> -> or one character.
    const c2 = next;
    let length = 1;
    switch (code) {
      case 60 /* < */:
        if (c2 === 61) length = sql.charCodeAt(i + 2) === 62 ? 3 : 2;
        else if (c2 === 62 || c2 === 60) length = 2;
        break;
      case 62 /* > */:
        if (c2 === 61 || c2 === 62) length = 2;
        break;
      case 33 /* ! */:
      case 58 /* : */:
        if (c2 === 61) length = 2;
        break;
      case 124 /* | */:
      case 38 /* & */:
        if (c2 === code) length = 2;
        break;
      case 45 /* - */:
        if (c2 === 62) length = sql.charCodeAt(i + 2) === 62 ? 3 : 2;
        break;
      case 46 /* . */:
        if (c2 === 46 && sql.charCodeAt(i + 2) === 46) {
          i += 3;
          tokens.push(token("ellipsis", "...", start, i));
          continue;
        }
        break;
      default:
        break;
    }
    i += length;
    tokens.push(token("op", length === 1 && code < 128 ? (ONE_CHAR[code] as string) : sql.slice(start, i), start, i));
  }
  return tokens;
}

/** A `.` right after a name is a qualifier (t.5col is rare, t.col common), not the start of a number. */
function afterName(tokens: Token[], at: number): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.end === at && (last.type === "word" || last.type === "quoted");
}

function skipLine(sql: string, from: number): number {
  const end = sql.indexOf("\n", from);
  return end < 0 ? sql.length : end + 1;
}

/** Index just past the string that opens at `from` (backslash escapes and doubled quotes). */
function skipString(sql: string, from: number, quote: number): number {
  const n = sql.length;
  let j = from + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === 92 /* \ */) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n;
}

function scanNumber(sql: string, from: number): number {
  const n = sql.length;
  let j = from;
  const first = sql.charCodeAt(j);
  const second = sql.charCodeAt(j + 1);
  if (first === 48 && (second === 120 || second === 88) && charClass(sql.charCodeAt(j + 2)) & HEX) {
    j += 2;
    while (j < n && charClass(sql.charCodeAt(j)) & HEX) j++;
    return j;
  }
  if (first === 48 && (second === 98 || second === 66)) {
    const third = sql.charCodeAt(j + 2);
    if (third === 48 || third === 49) {
      j += 2;
      while (j < n && (sql.charCodeAt(j) === 48 || sql.charCodeAt(j) === 49)) j++;
      return j;
    }
  }
  while (j < n && charClass(sql.charCodeAt(j)) & DIGIT) j++;
  if (sql.charCodeAt(j) === 46 /* . */) {
    j++;
    while (j < n && charClass(sql.charCodeAt(j)) & DIGIT) j++;
  }
  const e = sql.charCodeAt(j);
  if (e === 101 || e === 69) {
    let k = j + 1;
    const sign = sql.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (charClass(sql.charCodeAt(k)) & DIGIT) {
      while (k < n && charClass(sql.charCodeAt(k)) & DIGIT) k++;
      j = k;
    }
  }
  return j;
}

/** The value of a '...' or "..." string token (prefix and quotes removed, escapes resolved). */
export function stringValue(text: string): string {
  let from = 0;
  while (from < text.length && text.charCodeAt(from) !== 39 && text.charCodeAt(from) !== 34) from++;
  const quote = text.charCodeAt(from);
  let out = "";
  let j = from + 1;
  const end = text.charCodeAt(text.length - 1) === quote && text.length > from + 1 ? text.length - 1 : text.length;
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c === 92 && j + 1 < end) {
      const e = text[j + 1] ?? "";
      // \% and \_ keep their backslash (LIKE needs to tell them from wildcards), as MySQL does.
      out += ESCAPES[e] ?? e;
      j += 2;
      continue;
    }
    if (c === quote && text.charCodeAt(j + 1) === quote) {
      out += text[j];
      j += 2;
      continue;
    }
    out += text[j];
    j++;
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  b: "\b",
  n: "\n",
  r: "\r",
  t: "\t",
  Z: "\x1a",
  "%": "\\%",
  _: "\\_",
};
