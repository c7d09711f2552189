/**
 * Statement normalisation: literals -> ?, IN (?, ?, ...) -> IN (...), multi-row VALUES -> one
 * tuple, comments dropped, whitespace collapsed, keywords in upper case, identifiers unquoted where
 * that is safe. Statements that differ only in their values get the same text and so the same
 * digest (sha1 of the text, 16 hex characters).
 *
 * The lexemes it works from keep their source tokens, so shape extraction (shape.ts) can still see
 * the literals (a LIKE pattern's wildcards) from the same single pass over the characters.
 */
import { createHash } from "node:crypto";
import { AFTER_KEYWORD, FUNCTIONS, RESERVED, STATEMENT_START, STATEMENT_WORDS } from "./keywords.ts";
import { type Token, type TokenKind, tokenize } from "./tokens.ts";

/**
 * A token classified for normalisation: `kind`, `text` (the normalised piece) and `fn` are set. The
 * source text stays in `raw`, so shape extraction still sees a LIKE pattern's wildcards.
 */
export type Lexeme = Token;

export interface NormalizedStatement {
  sql: string;
  digest: string;
}

/** Statement kinds whose words are classified as a query's; any other statement is only counted. */
const QUERY_STARTS = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES", "TABLE"]);

/** Tokenizes and classifies a statement (or several, separated by `;`). */
export function lex(sql: string): Lexeme[] {
  return classify(tokenize(sql));
}

interface WordInfo {
  upper: string;
  reserved: boolean;
  fn: boolean;
  start: boolean;
  statement: boolean;
}

const words = new Map<string, WordInfo>();

/** What the keyword lists say about a word (cached: the same few hundred words come back all the time). */
function wordInfo(text: string): WordInfo {
  let info = words.get(text);
  if (info === undefined) {
    const upper = text.toUpperCase();
    info = {
      upper,
      reserved: RESERVED.has(upper),
      fn: FUNCTIONS.has(upper),
      start: STATEMENT_START.has(upper),
      statement: STATEMENT_WORDS.has(upper),
    };
    if (words.size >= 100_000) words.clear();
    words.set(text, info);
  }
  return info;
}

/** Classifies tokens in place (kind, text, fn); returns them without the ones that merge into a literal. */
export function classify(tokens: readonly Token[]): Lexeme[] {
  const out: Lexeme[] = [];
  let query = true;
  let statementStart = true;
  const n = tokens.length;
  for (let i = 0; i < n; i++) {
    const token = tokens[i] as Token;
    const prev = out[out.length - 1];
    if (statementStart) query = token.raw === "(" || QUERY_STARTS.has(token.raw.toUpperCase());
    let kind: TokenKind = "op";
    let text = token.raw;
    switch (token.type) {
      case "word": {
        const word = wordInfo(text);
        const upper = word.upper;
        const next = tokens[i + 1];
        if (upper === "NULL") {
          const isNull = prev?.text === "IS" || (prev?.text === "NOT" && out[out.length - 2]?.text === "IS");
          kind = isNull ? "keyword" : "value";
          text = isNull ? "NULL" : "?";
        } else if (upper === "TRUE" || upper === "FALSE") {
          kind = "value";
          text = "?";
        } else if (word.fn && next?.type === "op" && next.raw === "(" && !namesTable(prev)) {
          kind = "keyword";
          text = upper;
          token.fn = true;
        } else if (
          word.reserved ||
          (statementStart && word.start) ||
          (prev?.kind === "keyword" && AFTER_KEYWORD.get(prev.text)?.has(upper)) ||
          (!query && word.statement)
        ) {
          kind = "keyword";
          text = upper;
        } else if (text.charCodeAt(0) === 95 /* _ */ && tokens[i + 1]?.type === "string") {
          // A character set introducer (_utf8mb4 'text'): part of the literal.
          continue;
        } else {
          kind = "identifier";
        }
        break;
      }
      case "quoted":
        kind = "identifier";
        break;
      case "string":
      case "param":
        kind = "value";
        text = "?";
        break;
      case "ellipsis":
        kind = "value";
        text = "...";
        break;
      case "number": {
        // A sign right before a number is part of the literal unless something it could subtract from precedes it.
        if (prev?.kind === "op" && (prev.text === "-" || prev.text === "+")) {
          const before = out[out.length - 2];
          if (before === undefined || (before.kind === "op" && before.text !== ")") || before.kind === "keyword") {
            out.pop();
          }
        }
        kind = "value";
        text = "?";
        break;
      }
      case "variable":
        kind = "variable";
        break;
      default:
        break;
    }
    token.kind = kind;
    token.text = text;
    out.push(token);
    statementStart = token.type === "op" && token.raw === ";";
  }
  return out;
}

/** Keywords a table name follows: `INSERT INTO log (...)` names a table `log`, it does not call LOG(). */
const BEFORE_TABLE = new Set(["INTO", "TABLE", "FROM", "JOIN", "UPDATE", "REPLACE", "INSERT"]);

function namesTable(prev: Lexeme | undefined): boolean {
  if (prev === undefined) return false;
  return (prev.kind === "keyword" && BEFORE_TABLE.has(prev.text)) || (prev.kind === "op" && prev.text === ".");
}

/** True for SELECT/INSERT/UPDATE/DELETE/... (whose words are classified as a query's). */
function isQuery(first: Lexeme | undefined): boolean {
  return first === undefined || first.text === "(" || QUERY_STARTS.has(first.text.toUpperCase());
}

/** Splits lexemes at top-level `;` into statements (empty ones dropped). */
export function splitStatements(lexemes: readonly Lexeme[]): Lexeme[][] {
  const statements: Lexeme[][] = [];
  let current: Lexeme[] = [];
  let depth = 0;
  for (const lexeme of lexemes) {
    if (lexeme.kind === "op") {
      if (lexeme.text === "(") depth++;
      else if (lexeme.text === ")") depth = Math.max(0, depth - 1);
      else if (lexeme.text === ";" && depth === 0) {
        if (current.length > 0) statements.push(current);
        current = [];
        continue;
      }
    }
    current.push(lexeme);
  }
  if (current.length > 0) statements.push(current);
  return statements;
}

/** Index of the `)` matching the `(` at `open` (or the last index when it is missing). */
export function closingParen(lexemes: readonly Lexeme[], open: number): number {
  let depth = 0;
  for (let i = open; i < lexemes.length; i++) {
    const l = lexemes[i] as Lexeme;
    if (l.kind !== "op") continue;
    if (l.text === "(") depth++;
    else if (l.text === ")" && --depth === 0) return i;
  }
  return lexemes.length - 1;
}

/** True when lexemes (open, close) are values separated by commas: `(?, ?, ?)`. */
function valueList(lexemes: readonly Lexeme[], open: number, close: number): boolean {
  if (close <= open + 1) return false;
  for (let i = open + 1; i < close; i++) {
    const l = lexemes[i] as Lexeme;
    const expectValue = (i - open) % 2 === 1;
    if (expectValue ? l.kind !== "value" : l.kind !== "op" || l.text !== ",") return false;
  }
  return (close - open) % 2 === 0;
}

/** The number of columns an INSERT/REPLACE names (`INSERT INTO t (a, b)` -> 2), if it names them. */
function insertColumnCount(lexemes: readonly Lexeme[]): number | undefined {
  const first = lexemes[0];
  if (first?.kind !== "keyword" || (first.text !== "INSERT" && first.text !== "REPLACE")) return undefined;
  for (let i = 1; i < lexemes.length; i++) {
    const l = lexemes[i] as Lexeme;
    if (
      l.kind === "keyword" &&
      (l.text === "VALUES" || l.text === "VALUE" || l.text === "SELECT" || l.text === "SET")
    ) {
      return undefined;
    }
    if (l.kind === "op" && l.text === "(") {
      if (lexemes[i - 1]?.kind !== "identifier") return undefined;
      return Math.max(1, countItems(lexemes, i, closingParen(lexemes, i)));
    }
  }
  return undefined;
}

const SAFE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const queryIdentifiers = new Map<string, string>();
const otherIdentifiers = new Map<string, string>();

/**
 * An identifier as normalised text writes it: bare when that reads back as the same identifier.
 * In statements that are not queries (SET, SHOW, ...) more words read back as keywords.
 */
export function printIdentifier(name: string, query = true): string {
  const cache = query ? queryIdentifiers : otherIdentifiers;
  let printed = cache.get(name);
  if (printed === undefined) {
    const upper = name.toUpperCase();
    const bare =
      SAFE_IDENTIFIER.test(name) &&
      !RESERVED.has(upper) &&
      upper !== "NULL" &&
      upper !== "TRUE" &&
      upper !== "FALSE" &&
      (query || (!STATEMENT_START.has(upper) && !STATEMENT_WORDS.has(upper)));
    printed = bare ? name : `\`${name.replaceAll("`", "``")}\``;
    if (cache.size < 100_000) cache.set(name, printed);
  }
  return printed;
}

/** Writes lexemes as normalised text (see the module comment). */
export function render(lexemes: readonly Lexeme[]): string {
  const n = lexemes.length;
  const insertColumns = insertColumnCount(lexemes);
  let query = isQuery(lexemes[0]);
  const w = new TextWriter();
  // Skip the extra rows of a multi-row VALUES: lexemes [skipFrom, skipTo).
  let skipFrom = -1;
  let skipTo = -1;
  // Inside the first VALUES tuple: where it closes and how many items it has.
  let tupleClose = -1;
  let tupleItems = 0;

  for (let i = 0; i < n; i++) {
    if (i === skipFrom) {
      i = skipTo - 1;
      continue;
    }
    const l = lexemes[i] as Lexeme;
    const next = lexemes[i + 1];
    switch (l.kind) {
      case "keyword": {
        if (
          (l.text === "IN" || l.text === "VALUES" || l.text === "VALUE") &&
          next?.text === "(" &&
          next.kind === "op"
        ) {
          const close = closingParen(lexemes, i + 1);
          if (l.text === "IN") {
            if (valueList(lexemes, i + 1, close)) {
              w.put("IN", true, false);
              w.put("(...)", true, false);
              i = close;
              continue;
            }
          } else if (lexemes[i - 1]?.text !== "=" || lexemes[i - 1]?.kind !== "op") {
            // INSERT ... VALUES (...), (...): keep the first tuple only.
            let end = close + 1;
            while (lexemes[end]?.text === "," && lexemes[end + 1]?.text === "(" && lexemes[end + 1]?.kind === "op") {
              end = closingParen(lexemes, end + 1) + 1;
            }
            if (end > close + 1) {
              skipFrom = close + 1;
              skipTo = end;
            }
            tupleClose = close;
            tupleItems = countItems(lexemes, i + 1, close);
          }
        }
        w.put(l.text, true, l.fn === true && next?.text === "(");
        break;
      }
      case "identifier":
        w.put(printIdentifier(l.text, query), true, false);
        break;
      case "value":
        if (l.text === "...") {
          if (i < tupleClose && insertColumns !== undefined && insertColumns >= tupleItems) {
            // A server-collapsed VALUES (...) or (?, ...): one ? per remaining column.
            const fill = insertColumns - tupleItems + 1;
            w.put(Array.from({ length: fill }, () => "?").join(", "), true, false);
            break;
          }
          if (lexemes[i - 1]?.text === "," && lexemes[i - 3]?.text === "LIMIT") {
            w.put("?", true, false);
            break;
          }
        }
        w.put(l.text, true, false);
        break;
      case "variable":
        w.put(l.text, true, false);
        break;
      default: {
        const t = l.text;
        if (t === ";") query = isQuery(next);
        if (t === "," || t === ";") w.put(t, false, false);
        else if (t === ")") w.put(t, false, false);
        else if (t === "(") w.put(t, true, true);
        else if (t === ".") w.put(t, false, true);
        else w.put(t, true, false);
      }
    }
  }
  return w.out;
}

/** Normalised text being written: one space between pieces, except where `glue` says none. */
class TextWriter {
  out = "";
  /** No space before the next piece (after `(`, `.`, or a function name before its `(`). */
  glue = true;

  put(piece: string, spaceBefore: boolean, glueAfter: boolean): void {
    if (spaceBefore && !this.glue) this.out += " ";
    this.out += piece;
    this.glue = glueAfter;
  }
}

/** Top-level items between the parentheses at `open` and `close`. */
function countItems(lexemes: readonly Lexeme[], open: number, close: number): number {
  if (close <= open + 1) return 0;
  let count = 1;
  let depth = 0;
  for (let j = open + 1; j < close; j++) {
    const m = lexemes[j] as Lexeme;
    if (m.kind !== "op") continue;
    if (m.text === "(") depth++;
    else if (m.text === ")") depth--;
    else if (m.text === "," && depth === 0) count++;
  }
  return count;
}

const digestCache = new Map<string, string>();

/** sha1 of the normalised text, first 16 hex characters. */
export function digestOf(normalized: string): string {
  let digest = digestCache.get(normalized);
  if (digest === undefined) {
    digest = createHash("sha1").update(normalized).digest("hex").slice(0, 16);
    if (digestCache.size >= 50_000) digestCache.clear();
    digestCache.set(normalized, digest);
  }
  return digest;
}

/** Normalises one statement (a trailing `;` is dropped) and computes its digest. */
export function normalizeStatement(sql: string): NormalizedStatement {
  const lexemes = lex(sql);
  while (lexemes.length > 0 && lexemes[lexemes.length - 1]?.text === ";") lexemes.pop();
  const text = render(lexemes);
  return { sql: text, digest: digestOf(text) };
}
