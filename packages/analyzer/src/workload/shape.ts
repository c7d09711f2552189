/**
 * Statement shapes: which tables a statement reads or writes, on which columns it filters and
 * joins, how it sorts, and whether it aggregates or locks. Read from the lexemes of the raw
 * statement, so a LIKE pattern's wildcards are still there to tell a prefix search from a
 * contains search; given normalised text instead, LIKE ? is an "other" condition.
 *
 * No schema is at hand here: an unqualified column belongs to the statement's only table, and in a
 * statement over several tables it is left unresolved (table "") and the shape marked complex.
 */
import { AGGREGATES } from "./keywords.ts";
import { closingParen, type Lexeme, lex, splitStatements } from "./normalize.ts";
import { stringValue } from "./tokens.ts";
import type { ColumnCondition, ColumnRef, ConditionOperator, StatementKind, StatementShape } from "./types.ts";

export interface ShapeOptions {
  /** The analysed database: `db.table` loses its prefix when `db` is this one. */
  database?: string;
}

/** The shape of a statement, from its text (raw or normalised) or from its lexemes. */
export function statementShape(input: string | readonly Lexeme[], options: ShapeOptions = {}): StatementShape {
  let lexemes: readonly Lexeme[];
  let more = false;
  if (typeof input === "string") {
    const statements = splitStatements(lex(input));
    lexemes = statements[0] ?? [];
    more = statements.length > 1;
  } else {
    lexemes = input;
    while (lexemes.length > 0 && lexemes[lexemes.length - 1]?.text === ";") lexemes = lexemes.slice(0, -1);
  }
  const reader = new ShapeReader(lexemes, options.database);
  const shape = reader.read();
  if (more) shape.complex = true;
  return shape;
}

/** An empty shape of the given kind. */
export function emptyShape(kind: StatementKind): StatementShape {
  return {
    kind,
    tables: [],
    conditions: [],
    joins: [],
    orderBy: [],
    limit: false,
    aggregate: false,
    writes: [],
    locking: false,
    complex: false,
  };
}

interface Scope {
  /** Alias or table name -> table ("" for a derived table). */
  names: Map<string, string>;
  /** The scope's sources in order (tables, "" for derived tables). */
  sources: string[];
  parent: Scope | undefined;
  /** Select-list aliases: the column they stand for, or null for an expression. */
  selectAliases?: Map<string, ColumnRef | null>;
}

const COMPARISONS: ReadonlyMap<string, ConditionOperator> = new Map([
  ["=", "="],
  ["<=>", "="],
  ["<", "<"],
  ["<=", "<="],
  [">", ">"],
  [">=", ">="],
  ["!=", "!="],
  ["<>", "!="],
]);

const FLIPPED: Partial<Record<ConditionOperator, ConditionOperator>> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

const BOUNDARY_KEYWORDS = new Set(["WHERE", "ON", "AND", "OR", "XOR", "NOT", "HAVING", "WHEN"]);
const BOUNDARY_OPS = new Set(["(", "&&", "||", "!", ","]);
const JOIN_WORDS = new Set(["JOIN", "INNER", "CROSS", "LEFT", "RIGHT", "OUTER", "NATURAL", "STRAIGHT_JOIN", "FULL"]);
const ARITHMETIC = new Set(["+", "-", "*", "/", "%", "DIV", "MOD", "||", "&", "|", "^", "<<", ">>"]);

class ShapeReader {
  private readonly shape: StatementShape;
  private readonly cte = new Set<string>();

  constructor(
    private readonly l: readonly Lexeme[],
    private readonly database: string | undefined,
  ) {
    this.shape = emptyShape("other");
  }

  read(): StatementShape {
    const { l, shape } = this;
    let start = 0;
    let first = l[0];
    if (first === undefined) return shape;
    if (this.kw(0, "WITH")) {
      shape.complex = true;
      start = this.skipWith();
      first = l[start];
    }
    if (first === undefined) return shape;
    if (first.kind === "op" && first.text === "(") {
      shape.kind = "select";
      this.readSelectUnion(start, l.length, undefined, true);
      return shape;
    }
    if (first.kind !== "keyword") return shape;
    switch (first.text) {
      case "SELECT":
        shape.kind = "select";
        this.readSelectUnion(start, l.length, undefined, true);
        break;
      case "INSERT":
      case "REPLACE":
        shape.kind = first.text === "INSERT" ? "insert" : "replace";
        this.readInsert(start + 1, l.length);
        break;
      case "UPDATE":
        shape.kind = "update";
        this.readUpdate(start + 1, l.length);
        break;
      case "DELETE":
        shape.kind = "delete";
        this.readDelete(start + 1, l.length);
        break;
      default:
        break;
    }
    return shape;
  }

  // ---- lexeme tests

  private kw(i: number, text: string): boolean {
    const x = this.l[i];
    return x !== undefined && x.kind === "keyword" && x.text === text;
  }

  private op(i: number, text: string): boolean {
    const x = this.l[i];
    return x !== undefined && x.kind === "op" && x.text === text;
  }

  private ident(i: number): boolean {
    return this.l[i]?.kind === "identifier";
  }

  private close(open: number, end: number): number {
    return Math.min(closingParen(this.l, open), end - 1);
  }

  /** `WITH [RECURSIVE] name [(cols)] AS (query), ...`: reads the queries, returns where the statement starts. */
  private skipWith(): number {
    const { l } = this;
    let i = 1;
    if (this.kw(i, "RECURSIVE")) i++;
    while (i < l.length) {
      const name = l[i];
      if (name?.kind === "identifier") {
        this.cte.add(name.text);
        i++;
      }
      if (this.op(i, "(")) i = closingParen(l, i) + 1;
      if (this.kw(i, "AS")) i++;
      if (this.op(i, "(")) {
        const close = closingParen(l, i);
        this.readSubquery(i + 1, close, undefined);
        i = close + 1;
      }
      if (this.op(i, ",")) {
        i++;
        continue;
      }
      break;
    }
    return i;
  }

  // ---- clauses

  /** Splits [from, to) at the depth-0 keywords in `starts`: [{ keyword, from, to }], the first with keyword "". */
  private clauses(from: number, to: number, starts: ReadonlySet<string>) {
    const out: Array<{ keyword: string; from: number; to: number }> = [];
    let current = { keyword: "", from, to };
    let depth = 0;
    for (let i = from; i < to; i++) {
      const x = this.l[i] as Lexeme;
      if (x.kind === "op") {
        if (x.text === "(") depth++;
        else if (x.text === ")") depth--;
        continue;
      }
      if (depth !== 0 || x.kind !== "keyword" || !starts.has(x.text)) continue;
      // ON DUPLICATE KEY UPDATE is one clause, not ON + UPDATE.
      if (x.text === "UPDATE" && this.kw(i - 1, "KEY")) continue;
      if (x.text === "FOR" && !(this.kw(i + 1, "UPDATE") || this.kw(i + 1, "SHARE"))) continue;
      if (x.text === "ON" && !this.kw(i + 1, "DUPLICATE")) continue;
      // `a = VALUES(a)` in ON DUPLICATE KEY UPDATE is a function.
      if ((x.text === "VALUES" || x.text === "VALUE") && this.op(i - 1, "=")) continue;
      current.to = i;
      out.push(current);
      let body = i + 1;
      if ((x.text === "GROUP" || x.text === "ORDER") && this.kw(body, "BY")) body++;
      current = { keyword: x.text, from: body, to };
    }
    out.push(current);
    return out;
  }

  private readSelectUnion(from: number, to: number, parent: Scope | undefined, outer: boolean): void {
    // Split at depth-0 UNION / EXCEPT / INTERSECT.
    const parts: Array<[number, number]> = [];
    let depth = 0;
    let partFrom = from;
    for (let i = from; i < to; i++) {
      const x = this.l[i] as Lexeme;
      if (x.kind === "op") {
        if (x.text === "(") depth++;
        else if (x.text === ")") depth--;
      } else if (
        depth === 0 &&
        x.kind === "keyword" &&
        (x.text === "UNION" || x.text === "EXCEPT" || x.text === "INTERSECT")
      ) {
        parts.push([partFrom, i]);
        partFrom = this.kw(i + 1, "ALL") || this.kw(i + 1, "DISTINCT") ? i + 2 : i + 1;
      }
    }
    parts.push([partFrom, to]);
    if (parts.length > 1) this.shape.complex = true;
    for (const [a, b] of parts) {
      if (this.op(a, "(")) {
        const close = this.close(a, b);
        this.shape.complex = true;
        this.readSelectUnion(a + 1, close, parent, outer);
        if (outer) this.readTail(close + 1, b, this.newScope(parent));
      } else {
        this.readSelect(a, b, parent, outer);
      }
    }
  }

  private newScope(parent: Scope | undefined): Scope {
    return { names: new Map(), sources: [], parent };
  }

  /** SELECT ... at [from, to) (from is the SELECT keyword). */
  private readSelect(from: number, to: number, parent: Scope | undefined, outer: boolean): void {
    const scope = this.newScope(parent);
    const parts = this.clauses(
      from + 1,
      to,
      new Set(["FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "FOR", "LOCK", "INTO", "WINDOW", "PROCEDURE"]),
    );
    const head = parts[0];
    const fromPart = parts.find((p) => p.keyword === "FROM");
    const onRanges: Array<[number, number]> = [];
    if (fromPart) this.readTableRefs(fromPart.from, fromPart.to, scope, onRanges);
    if (head) this.readSelectList(head.from, head.to, scope, outer);
    for (const [a, b] of onRanges) this.readCondition(a, b, scope);
    for (const part of parts) {
      switch (part.keyword) {
        case "WHERE":
          this.readCondition(part.from, part.to, scope);
          break;
        case "GROUP":
        case "HAVING":
          if (outer) this.shape.aggregate = true;
          this.readSubqueriesIn(part.from, part.to, scope);
          break;
        case "ORDER":
          if (outer) this.readOrderBy(part.from, part.to, scope);
          break;
        case "LIMIT":
          if (outer) this.shape.limit = true;
          break;
        case "FOR":
        case "LOCK":
          if (outer) this.shape.locking = true;
          break;
        default:
          break;
      }
    }
  }

  /** ORDER BY / LIMIT / locking after a parenthesised SELECT. */
  private readTail(from: number, to: number, scope: Scope): void {
    for (const part of this.clauses(from, to, new Set(["ORDER", "LIMIT", "FOR", "LOCK"]))) {
      if (part.keyword === "ORDER") this.readOrderBy(part.from, part.to, scope);
      else if (part.keyword === "LIMIT") this.shape.limit = true;
      else if (part.keyword === "FOR" || part.keyword === "LOCK") this.shape.locking = true;
    }
  }

  private readSelectList(from: number, to: number, scope: Scope, outer: boolean): void {
    const { l } = this;
    const aliases = new Map<string, ColumnRef | null>();
    scope.selectAliases = aliases;
    for (let i = from; i < to; i++) {
      const x = l[i] as Lexeme;
      if (x.kind === "keyword") {
        if (outer && (x.text === "DISTINCT" || x.text === "DISTINCTROW")) this.shape.aggregate = true;
        if (outer && x.fn && AGGREGATES.has(x.text)) this.shape.aggregate = true;
      } else if (x.kind === "op" && x.text === "(" && this.kw(i + 1, "SELECT")) {
        const close = this.close(i, to);
        this.readSubquery(i + 1, close, scope);
        i = close;
      }
    }
    // Aliases: `col AS name` / `col name` stand for the column; `expr AS name` for nothing the shape can use.
    for (const [a, b] of this.splitCommas(from, to)) {
      let end = b;
      let alias: string | undefined;
      if (this.ident(b - 1) && (this.kw(b - 2, "AS") || (b - 1 > a && this.endsPrimary(b - 2)))) {
        alias = l[b - 1]?.text;
        end = this.kw(b - 2, "AS") ? b - 2 : b - 1;
      }
      if (alias === undefined) continue;
      const ref = this.columnAt(a, scope);
      aliases.set(alias, ref && ref.next === end ? ref.column : null);
    }
  }

  /** True when lexeme i ends an expression (so an identifier after it is an alias). */
  private endsPrimary(i: number): boolean {
    const x = this.l[i];
    if (x === undefined) return false;
    return x.kind === "identifier" || x.kind === "value" || (x.kind === "op" && (x.text === ")" || x.text === "*"));
  }

  private splitCommas(from: number, to: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let depth = 0;
    let start = from;
    for (let i = from; i < to; i++) {
      const x = this.l[i] as Lexeme;
      if (x.kind !== "op") continue;
      if (x.text === "(") depth++;
      else if (x.text === ")") depth--;
      else if (x.text === "," && depth === 0) {
        out.push([start, i]);
        start = i + 1;
      }
    }
    if (to > start) out.push([start, to]);
    return out;
  }

  private readSubquery(from: number, to: number, parent: Scope | undefined): void {
    this.shape.complex = true;
    if (this.kw(from, "SELECT") || this.op(from, "(")) this.readSelectUnion(from, to, parent, false);
  }

  /** Reads the subqueries in [from, to) (conditions and tables), nothing else. */
  private readSubqueriesIn(from: number, to: number, scope: Scope): void {
    for (let i = from; i < to; i++) {
      if (this.op(i, "(") && this.kw(i + 1, "SELECT")) {
        const close = this.close(i, to);
        this.readSubquery(i + 1, close, scope);
        i = close;
      }
    }
  }

  // ---- tables

  private addTable(name: string): void {
    if (name === "" || this.cte.has(name)) return;
    if (!this.shape.tables.includes(name)) this.shape.tables.push(name);
  }

  /** A table name at i (`t`, `db.t`): its display name and the index after it. */
  private tableNameAt(i: number): { name: string; bare: string; next: number } | undefined {
    const first = this.l[i];
    if (first?.kind !== "identifier") return undefined;
    if (this.op(i + 1, ".") && this.ident(i + 2)) {
      const table = this.l[i + 2]?.text ?? "";
      const db = first.text;
      return { name: db === this.database ? table : `${db}.${table}`, bare: table, next: i + 3 };
    }
    return { name: first.text, bare: first.text, next: i + 1 };
  }

  /** Table references (`a AS x JOIN b y ON ...`, `a, b`, `(SELECT ...) d`); ON conditions go to `onRanges`. */
  private readTableRefs(from: number, to: number, scope: Scope, onRanges: Array<[number, number]>): void {
    const { l } = this;
    let i = from;
    let previous: string | undefined;
    while (i < to) {
      const x = l[i] as Lexeme;
      if (x.kind === "op" && x.text === ",") {
        i++;
        continue;
      }
      if (x.kind === "keyword" && (JOIN_WORDS.has(x.text) || x.text === "DUAL")) {
        i++;
        continue;
      }
      if (x.kind === "keyword" && x.text === "ON") {
        let j = i + 1;
        let depth = 0;
        for (; j < to; j++) {
          const y = l[j] as Lexeme;
          if (y.kind === "op") {
            if (y.text === "(") depth++;
            else if (y.text === ")") depth--;
            else if (y.text === "," && depth === 0) break;
          } else if (depth === 0 && y.kind === "keyword" && JOIN_WORDS.has(y.text)) break;
        }
        onRanges.push([i, j]);
        i = j;
        continue;
      }
      if (x.kind === "keyword" && x.text === "USING" && this.op(i + 1, "(")) {
        const close = this.close(i + 1, to);
        const current = scope.sources[scope.sources.length - 1];
        if (previous !== undefined && current !== undefined) {
          for (let j = i + 2; j < close; j++) {
            const c = l[j];
            if (c?.kind === "identifier") {
              this.shape.joins.push({
                left: { table: previous, column: c.text },
                right: { table: current, column: c.text },
              });
            }
          }
        }
        i = close + 1;
        continue;
      }
      if (x.kind === "op" && x.text === "(") {
        const close = this.close(i, to);
        let source: string;
        if (this.kw(i + 1, "SELECT") || this.op(i + 1, "(")) {
          this.readSubquery(i + 1, close, scope.parent);
          source = "";
        } else {
          // A parenthesised join: its tables join this scope.
          this.readTableRefs(i + 1, close, scope, onRanges);
          i = close + 1;
          continue;
        }
        i = close + 1;
        if (this.kw(i, "AS")) i++;
        if (this.ident(i)) {
          scope.names.set(l[i]?.text ?? "", source);
          i++;
        }
        previous = scope.sources[scope.sources.length - 1];
        scope.sources.push(source);
        continue;
      }
      const table = this.tableNameAt(i);
      if (table) {
        previous = scope.sources[scope.sources.length - 1];
        const name = this.cte.has(table.name) ? "" : table.name;
        this.addTable(name);
        scope.sources.push(name);
        scope.names.set(table.bare, name);
        if (table.name !== table.bare) scope.names.set(table.name, name);
        i = table.next;
        if (this.kw(i, "PARTITION") && this.op(i + 1, "(")) i = this.close(i + 1, to) + 1;
        if (this.kw(i, "AS")) i++;
        if (this.ident(i)) {
          scope.names.set(l[i]?.text ?? "", name);
          i++;
        }
        // Index hints: USE|FORCE|IGNORE INDEX|KEY [FOR ...] (...).
        while (this.kw(i, "USE") || this.kw(i, "FORCE") || this.kw(i, "IGNORE")) {
          let j = i + 1;
          while (j < to && !this.op(j, "(")) j++;
          i = j < to ? this.close(j, to) + 1 : to;
        }
        continue;
      }
      // Anything else (a keyword the reader does not know here): follow it no further.
      this.shape.complex = true;
      i++;
    }
  }

  // ---- columns

  /** Which table a qualifier (alias or table name) stands for, through the enclosing scopes. */
  private qualifier(name: string, scope: Scope): string {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const table = s.names.get(name);
      if (table !== undefined) return table;
    }
    const lower = name.toLowerCase();
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      for (const [alias, table] of s.names) if (alias.toLowerCase() === lower) return table;
    }
    return name === this.database ? "" : name;
  }

  /** A column reference at i (`c`, `t.c`, `db.t.c`), resolved; undefined when i is no column. */
  private columnAt(i: number, scope: Scope): { column: ColumnRef; next: number } | undefined {
    const { l } = this;
    const a = l[i];
    if (a?.kind !== "identifier") return undefined;
    if (this.op(i + 1, "(")) return undefined; // a function call
    if (this.op(i + 1, ".") && this.ident(i + 2)) {
      const b = l[i + 2]?.text ?? "";
      if (this.op(i + 3, ".") && this.ident(i + 4)) {
        const c = l[i + 4]?.text ?? "";
        const table = a.text === this.database ? b : `${a.text}.${b}`;
        return { column: { table: this.qualifier(table, scope), column: c }, next: i + 5 };
      }
      return { column: { table: this.qualifier(a.text, scope), column: b }, next: i + 3 };
    }
    if (this.op(i + 1, ".")) return undefined; // t.*
    return { column: { table: this.unqualified(a.text, scope), column: a.text }, next: i + 1 };
  }

  private unqualified(column: string, scope: Scope): string {
    if (scope.sources.length === 1) return scope.sources[0] ?? "";
    if (scope.sources.length === 0 && scope.parent) return this.unqualified(column, scope.parent);
    this.shape.complex = true;
    return "";
  }

  // ---- conditions

  private atBoundary(i: number, from: number): boolean {
    if (i === from) return true;
    const p = this.l[i - 1];
    if (p === undefined) return true;
    if (p.kind === "keyword") return BOUNDARY_KEYWORDS.has(p.text);
    return p.kind === "op" && BOUNDARY_OPS.has(p.text);
  }

  /** Reads conditions and joins in [from, to). */
  private readCondition(from: number, to: number, scope: Scope): void {
    const { l } = this;
    let i = from;
    while (i < to) {
      const x = l[i] as Lexeme;
      if (x.kind === "op" && x.text === "(" && (this.kw(i + 1, "SELECT") || this.kw(i + 1, "WITH"))) {
        const close = this.close(i, to);
        this.readSubquery(i + 1, close, scope);
        i = close + 1;
        continue;
      }
      if (x.kind === "keyword" && x.text === "CASE") this.shape.complex = true;
      if (this.atBoundary(i, from)) {
        const next = this.readPredicate(i, to, scope);
        if (next > i) {
          i = next;
          continue;
        }
      }
      i++;
    }
  }

  /** A predicate starting at i; returns the index after it, or i when there is none. */
  private readPredicate(i: number, to: number, scope: Scope): number {
    const { l } = this;
    const left = this.columnAt(i, scope);
    if (left) return this.readPredicateOn(left.column, left.next, to, scope, i);

    // FUNC(col) op ...: a condition the key cannot serve as it is.
    const x = l[i];
    if (x?.kind === "keyword" && x.fn && this.op(i + 1, "(")) {
      const close = this.close(i + 1, to);
      const inner = this.columnAt(i + 2, scope);
      if (inner && inner.next === close) {
        const after = this.readPredicateOn(inner.column, close + 1, to, scope, i);
        if (after > i) {
          const last = this.shape.conditions[this.shape.conditions.length - 1];
          if (last && last.column === inner.column) last.operator = "other";
          return after;
        }
      }
      return close + 1;
    }

    // value op col
    if (x?.kind === "value" || x?.kind === "variable") {
      const operator = COMPARISONS.get(l[i + 1]?.kind === "op" ? (l[i + 1]?.text ?? "") : "");
      if (operator) {
        const right = this.columnAt(i + 2, scope);
        if (right && !this.continuesExpression(right.next)) {
          this.addCondition(right.column, FLIPPED[operator] ?? operator);
          return right.next;
        }
      }
    }
    return i;
  }

  /** True when the lexeme at i continues an arithmetic expression (`a + 1`). */
  private continuesExpression(i: number): boolean {
    const x = this.l[i];
    if (x === undefined) return false;
    return (x.kind === "op" || x.kind === "keyword") && ARITHMETIC.has(x.text);
  }

  private readPredicateOn(column: ColumnRef, at: number, to: number, scope: Scope, start: number): number {
    const { l } = this;
    let i = at;
    let negated = false;
    if (this.kw(i, "NOT")) {
      negated = true;
      i++;
    }
    const x = l[i];
    if (x === undefined || i >= to) return start;
    if (x.kind === "keyword") {
      switch (x.text) {
        case "IN": {
          if (!this.op(i + 1, "(")) return start;
          const close = this.close(i + 1, to);
          if (this.kw(i + 2, "SELECT") || this.kw(i + 2, "WITH")) this.readSubquery(i + 2, close, scope);
          this.addCondition(column, negated ? "other" : "in");
          return close + 1;
        }
        case "BETWEEN": {
          const low = this.skipOperand(i + 1, to);
          const high = this.kw(low, "AND") ? this.skipOperand(low + 1, to) : low;
          this.addCondition(column, negated ? "other" : "between");
          return high;
        }
        case "LIKE": {
          const pattern = l[i + 1];
          let operator: ConditionOperator = "other";
          if (!negated && pattern?.kind === "value" && pattern.type === "string") {
            operator = likeOperator(stringValue(pattern.raw));
          }
          this.addCondition(column, operator);
          let next = this.skipOperand(i + 1, to);
          if (this.kw(next, "ESCAPE")) next = this.skipOperand(next + 1, to);
          return next;
        }
        case "IS": {
          if (negated) return start;
          if (this.kw(i + 1, "NULL")) {
            this.addCondition(column, "is null");
            return i + 2;
          }
          if (this.kw(i + 1, "NOT") && this.kw(i + 2, "NULL")) {
            this.addCondition(column, "is not null");
            return i + 3;
          }
          this.addCondition(column, "other");
          return this.skipOperand(this.kw(i + 1, "NOT") ? i + 2 : i + 1, to);
        }
        case "REGEXP":
        case "RLIKE":
          this.addCondition(column, "other");
          return this.skipOperand(i + 1, to);
        default:
          return start;
      }
    }
    if (negated || x.kind !== "op") return start;
    const operator = COMPARISONS.get(x.text);
    if (!operator) return start;
    const right = this.columnAt(i + 1, scope);
    if (right) {
      if (this.continuesExpression(right.next)) return right.next;
      if (operator === "=") this.shape.joins.push({ left: column, right: right.column });
      return right.next;
    }
    const y = l[i + 1];
    if (y?.kind === "op" && y.text === "(" && (this.kw(i + 2, "SELECT") || this.kw(i + 2, "WITH"))) {
      const close = this.close(i + 1, to);
      this.readSubquery(i + 2, close, scope);
      this.addCondition(column, operator);
      return close + 1;
    }
    this.addCondition(column, operator);
    return this.skipOperand(i + 1, to);
  }

  /** Index after the operand at i: a value, a column, a function call, or a parenthesised expression. */
  private skipOperand(i: number, to: number): number {
    const x = this.l[i];
    if (x === undefined || i >= to) return i;
    if (x.kind === "op" && x.text === "(") return this.close(i, to) + 1;
    if ((x.kind === "keyword" || x.kind === "identifier") && this.op(i + 1, "(")) return this.close(i + 1, to) + 1;
    if (x.kind === "identifier") {
      let j = i + 1;
      while (this.op(j, ".") && this.ident(j + 1)) j += 2;
      return j;
    }
    return i + 1;
  }

  private addCondition(column: ColumnRef, operator: ConditionOperator): void {
    this.shape.conditions.push({ column, operator } satisfies ColumnCondition);
  }

  // ---- ORDER BY

  private readOrderBy(from: number, to: number, scope: Scope): void {
    for (const [a, b] of this.splitCommas(from, to)) {
      let end = b;
      let direction: "asc" | "desc" = "asc";
      if (this.kw(b - 1, "DESC")) {
        direction = "desc";
        end = b - 1;
      } else if (this.kw(b - 1, "ASC")) {
        end = b - 1;
      }
      const name = this.l[a];
      if (
        end === a + 1 &&
        name?.kind === "identifier" &&
        scope.selectAliases?.has(name.text) &&
        !scope.sources.includes(name.text)
      ) {
        const aliased = scope.selectAliases.get(name.text);
        if (aliased) this.shape.orderBy.push({ column: aliased, direction });
        continue;
      }
      const ref = this.columnAt(a, scope);
      if (ref && ref.next === end) this.shape.orderBy.push({ column: ref.column, direction });
    }
  }

  // ---- writes

  private addWrite(column: ColumnRef): void {
    if (!this.shape.writes.some((w) => w.table === column.table && w.column === column.column)) {
      this.shape.writes.push(column);
    }
  }

  /** `col = expr, ...`: the columns go to writes; subqueries in the values are read. */
  private readAssignments(from: number, to: number, scope: Scope): void {
    for (const [a, b] of this.splitCommas(from, to)) {
      const ref = this.columnAt(a, scope);
      if (ref && this.op(ref.next, "=")) this.addWrite(ref.column);
      else this.shape.complex = true;
      this.readSubqueriesIn(a, b, scope);
    }
  }

  private readInsert(from: number, to: number): void {
    const { l } = this;
    let i = from;
    while (
      this.kw(i, "LOW_PRIORITY") ||
      this.kw(i, "DELAYED") ||
      this.kw(i, "HIGH_PRIORITY") ||
      this.kw(i, "IGNORE") ||
      this.kw(i, "INTO")
    ) {
      i++;
    }
    const table = this.tableNameAt(i);
    if (!table) {
      this.shape.complex = true;
      return;
    }
    const scope = this.newScope(undefined);
    this.addTable(table.name);
    scope.sources.push(table.name);
    scope.names.set(table.bare, table.name);
    i = table.next;
    if (this.kw(i, "PARTITION") && this.op(i + 1, "(")) i = this.close(i + 1, to) + 1;
    if (this.op(i, "(") && !this.kw(i + 1, "SELECT") && !this.kw(i + 1, "WITH")) {
      const close = this.close(i, to);
      for (let j = i + 1; j < close; j++) {
        const c = l[j];
        if (c?.kind === "identifier" && !this.op(j + 1, ".")) this.addWrite({ table: table.name, column: c.text });
      }
      i = close + 1;
    }
    const parts = this.clauses(i, to, new Set(["VALUES", "VALUE", "SET", "SELECT", "ON"]));
    for (const part of parts) {
      switch (part.keyword) {
        case "VALUES":
        case "VALUE":
          this.readSubqueriesIn(part.from, part.to, scope);
          break;
        case "SET":
          this.readAssignments(part.from, part.to, scope);
          break;
        case "SELECT":
          this.shape.complex = true;
          this.readSelectUnion(part.from - 1, part.to, undefined, false);
          break;
        case "ON":
          if (this.kw(part.from, "DUPLICATE") && this.kw(part.from + 1, "KEY") && this.kw(part.from + 2, "UPDATE")) {
            this.readAssignments(part.from + 3, part.to, scope);
          }
          break;
        default:
          if (this.op(part.from, "(")) {
            // INSERT INTO t (SELECT ...)
            const close = this.close(part.from, part.to);
            this.readSubquery(part.from + 1, close, undefined);
          }
      }
    }
  }

  private readUpdate(from: number, to: number): void {
    let i = from;
    while (this.kw(i, "LOW_PRIORITY") || this.kw(i, "IGNORE")) i++;
    const scope = this.newScope(undefined);
    const parts = this.clauses(i, to, new Set(["SET", "WHERE", "ORDER", "LIMIT"]));
    const onRanges: Array<[number, number]> = [];
    const head = parts[0];
    if (head) this.readTableRefs(head.from, head.to, scope, onRanges);
    for (const [a, b] of onRanges) this.readCondition(a, b, scope);
    for (const part of parts) {
      if (part.keyword === "SET") this.readAssignments(part.from, part.to, scope);
      else if (part.keyword === "WHERE") this.readCondition(part.from, part.to, scope);
      else if (part.keyword === "ORDER") this.readOrderBy(part.from, part.to, scope);
      else if (part.keyword === "LIMIT") this.shape.limit = true;
    }
  }

  private readDelete(from: number, to: number): void {
    let i = from;
    while (this.kw(i, "LOW_PRIORITY") || this.kw(i, "QUICK") || this.kw(i, "IGNORE")) i++;
    const scope = this.newScope(undefined);
    const parts = this.clauses(i, to, new Set(["FROM", "USING", "WHERE", "ORDER", "LIMIT"]));
    const using = parts.find((p) => p.keyword === "USING");
    const source = using ?? parts.find((p) => p.keyword === "FROM");
    const onRanges: Array<[number, number]> = [];
    if (source) this.readTableRefs(source.from, source.to, scope, onRanges);
    for (const [a, b] of onRanges) this.readCondition(a, b, scope);
    for (const part of parts) {
      if (part.keyword === "WHERE") this.readCondition(part.from, part.to, scope);
      else if (part.keyword === "ORDER") this.readOrderBy(part.from, part.to, scope);
      else if (part.keyword === "LIMIT") this.shape.limit = true;
    }
  }
}

/**
 * The kind of a LIKE pattern: no wildcard -> "=", a literal prefix then wildcards -> "like-prefix",
 * a leading wildcard -> "like-contains".
 */
export function likeOperator(pattern: string): ConditionOperator {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "%" || c === "_") return i === 0 ? "like-contains" : "like-prefix";
  }
  return "=";
}
