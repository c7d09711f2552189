/**
 * From statements seen on a server to a Workload: keep the analysed database's, normalise, group by
 * digest, count, and work out each digest's shape once.
 */
import { classify, digestOf, type Lexeme, render, splitStatements } from "./normalize.ts";
import { likeOperator, type ShapeOptions, statementShape } from "./shape.ts";
import { stringValue, tokenize } from "./tokens.ts";
import type { ConditionOperator, ObservedStatement, StatementShape, Workload } from "./types.ts";

export interface WorkloadEntry {
  sql: string;
  /** When the server saw it, in ms since the epoch. */
  at?: number;
  /** The connection's current database, when known ("" when it had none). */
  database?: string;
}

export interface WorkloadOptions {
  /** Where the statements came from (see Workload.origin). */
  origin: string;
  /** The analysed database: statements on other databases are left out. */
  database: string;
  /** The observed window in seconds; by default first to last `at` (at least 1). */
  seconds?: number;
}

/** Examples longer than this are cut (a multi-row INSERT can be megabytes). */
const EXAMPLE_LIMIT = 2_000;

interface Group {
  digest: string;
  sql: string;
  example: string;
  count: number;
  /** Lexemes of one example per distinct LIKE-pattern signature (the first is the first example). */
  variants: Map<string, Lexeme[]>;
}

/** Collects statements one at a time (see `buildWorkload` for the rules). */
export class WorkloadBuilder {
  private readonly groups = new Map<string, Group>();
  private readonly shapeOptions: ShapeOptions;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private queries = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.shapeOptions = { database: options.database };
  }

  /** Adds one entry (several statements separated by `;` count one each); `count` weighs it (digest summaries). */
  add(entry: WorkloadEntry, count = 1): void {
    const { sql, at, database } = entry;
    if (at !== undefined && Number.isFinite(at)) {
      if (at < this.first) this.first = at;
      if (at > this.last) this.last = at;
    }
    const lexemes = classify(tokenize(sql));
    if (lexemes.length === 0) return;
    if (database !== undefined && database !== this.options.database && !this.names(lexemes)) return;
    const statements = lexemes.some((l) => l.kind === "op" && l.text === ";") ? splitStatements(lexemes) : [lexemes];
    for (const statement of statements) {
      const text = render(statement);
      const digest = digestOf(text);
      this.queries += count;
      let group = this.groups.get(digest);
      const signature = likeSignature(statement);
      if (group === undefined) {
        group = {
          digest,
          sql: text,
          example: exampleOf(sql, statement, statements.length > 1),
          count: 0,
          variants: new Map(),
        };
        group.variants.set(signature, statement);
        this.groups.set(digest, group);
      } else if (!group.variants.has(signature) && group.variants.size < 8) {
        group.variants.set(signature, statement);
      }
      group.count += count;
    }
  }

  /** True when a statement names the analysed database (`store.users`) though its connection is elsewhere. */
  private names(lexemes: readonly Lexeme[]): boolean {
    const db = this.options.database;
    for (let i = 0; i + 1 < lexemes.length; i++) {
      const l = lexemes[i] as Lexeme;
      if (l.kind === "identifier" && l.text === db && lexemes[i + 1]?.text === ".") return true;
    }
    return false;
  }

  /** The observed window: the given seconds, else first to last statement (at least 1 s). */
  get seconds(): number {
    if (this.options.seconds !== undefined) return Math.max(this.options.seconds, 0.001);
    if (this.last < this.first) return 1;
    return Math.max(1, Math.round(this.last - this.first) / 1000);
  }

  build(): Workload {
    const seconds = this.seconds;
    const statements: ObservedStatement[] = [];
    for (const group of this.groups.values()) {
      statements.push({
        digest: group.digest,
        sql: group.sql,
        example: group.example,
        count: group.count,
        perSecond: round(group.count / seconds),
        shape: this.shapeOf(group),
      });
    }
    statements.sort((a, b) => b.count - a.count || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    return { origin: this.options.origin, seconds, queries: this.queries, statements };
  }

  /** The shape of a group's first example, its LIKE conditions widened by the other examples'. */
  private shapeOf(group: Group): StatementShape {
    let shape: StatementShape | undefined;
    for (const lexemes of group.variants.values()) {
      const next = statementShape(lexemes, this.shapeOptions);
      if (shape === undefined) {
        shape = next;
        continue;
      }
      for (const [i, condition] of shape.conditions.entries()) {
        const other = next.conditions[i];
        if (other && LIKE_RANK[other.operator] > LIKE_RANK[condition.operator]) condition.operator = other.operator;
      }
    }
    return shape ?? statementShape([], this.shapeOptions);
  }
}

/** How little of a key a condition can use: a LIKE seen with several patterns counts as the widest. */
const LIKE_RANK: Record<ConditionOperator, number> = {
  "=": 1,
  "like-prefix": 2,
  other: 3,
  "like-contains": 4,
  in: 0,
  "<": 0,
  "<=": 0,
  ">": 0,
  ">=": 0,
  between: 0,
  "!=": 0,
  "is null": 0,
  "is not null": 0,
};

/** The patterns of a statement's LIKEs, one letter each (p prefix, c contains, e exact, o other). */
function likeSignature(lexemes: readonly Lexeme[]): string {
  let signature = "";
  for (let i = 0; i < lexemes.length; i++) {
    const l = lexemes[i] as Lexeme;
    if (l.kind !== "keyword" || l.text !== "LIKE") continue;
    const pattern = lexemes[i + 1];
    if (pattern?.type !== "string") {
      signature += "o";
      continue;
    }
    const operator = likeOperator(stringValue(pattern.raw));
    signature += operator === "like-prefix" ? "p" : operator === "like-contains" ? "c" : "e";
  }
  return signature;
}

function exampleOf(sql: string, statement: readonly Lexeme[], several: boolean): string {
  let text = sql;
  if (several) {
    const first = statement[0];
    const last = statement[statement.length - 1];
    if (first && last) text = sql.slice(first.start, last.end);
  }
  text = text.trim();
  return text.length > EXAMPLE_LIMIT ? `${text.slice(0, EXAMPLE_LIMIT)} ...` : text;
}

/** Six significant digits: rates read well and survive JSON/YAML round trips. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}

/**
 * Builds a Workload from statements: keeps those on the analysed database (or on an unknown one,
 * or naming it, as in `store.users`), normalises them, groups them by digest and counts them;
 * perSecond is the count over the window (the given seconds, else first to last `at`, at least 1).
 * Statements are sorted by count (most first), then digest. Each keeps its first example.
 */
export function buildWorkload(entries: Iterable<WorkloadEntry>, options: WorkloadOptions): Workload {
  const builder = new WorkloadBuilder(options);
  for (const entry of entries) builder.add(entry);
  return builder.build();
}
