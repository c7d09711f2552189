/**
 * Names for access patterns that would otherwise be the same: two statements both named `listShoppingCartsByUserId`
 * are told apart by what differs between them, in the order a name says it (the order of the rows, the tables
 * joined, other conditions, the columns written, locking, a limit, the columns read): never by a counter.
 */
import type { ColumnRef, ConditionOperator, StatementShape } from "../workload/types.ts";
import { attributeName, entityName, plural } from "./naming.ts";

/** How a statement's tables and columns read in a name: as the contract's entities and attributes, where they are. */
export interface NameSource {
  /** The table the pattern is about. */
  table: string;
  entityOf(table: string): string | undefined;
  attributeOf(table: string, column: string): string | undefined;
}

/** What a name can add to tell statements apart, in the order it adds them. */
export const QUALIFIERS = ["order", "joins", "conditions", "writes", "locking", "limit", "columns"] as const;
export type Qualifier = (typeof QUALIFIERS)[number];

/** What each qualifier says of one statement ("OrderedByCreatedAtDesc", "WithProducts"), or "" when nothing. */
export type Qualifiers = Record<Qualifier, string>;

const CONDITION_WORDS: Partial<Record<ConditionOperator, string>> = {
  "<": "Below",
  "<=": "AtMost",
  ">": "Above",
  ">=": "AtLeast",
  between: "Between",
  "!=": "NotEqual",
  "is null": "IsNull",
  "is not null": "IsNotNull",
  "like-prefix": "StartingWith",
  other: "Matching",
};

const upperFirst = (word: string) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`;

/** What a statement's name can say beyond its base name. */
export function statementQualifiers(shape: StatementShape, sql: string, source: NameSource): Qualifiers {
  const tableOf = (ref: ColumnRef) => ref.table || (shape.tables.length === 1 ? (shape.tables[0] ?? "") : source.table);
  /** `createdAt` of the pattern's own table, `ProductName` of another. */
  const columnWord = (ref: ColumnRef) => {
    const table = tableOf(ref);
    const attribute = upperFirst(source.attributeOf(table, ref.column) ?? attributeName(ref.column));
    return table === source.table ? attribute : `${source.entityOf(table) ?? entityName(table)}${attribute}`;
  };
  const own = (ref: ColumnRef) => tableOf(ref) === source.table;
  const words = (prefix: string, list: string[]) => (list.length > 0 ? `${prefix}${list.join("And")}` : "");

  const others = [...new Set(shape.tables.filter((table) => table !== source.table))];
  const conditions = shape.conditions.flatMap((c) => {
    const word = CONDITION_WORDS[c.operator];
    return word ? [`${columnWord(c.column)}${word}`] : [];
  });
  return {
    order: words(
      "OrderedBy",
      shape.orderBy.map((o) => `${columnWord(o.column)}${o.direction === "desc" ? "Desc" : ""}`),
    ),
    joins: words(
      "With",
      others.map((table) => plural(source.entityOf(table) ?? entityName(table))),
    ),
    conditions: words("Where", [...new Set(conditions)]),
    writes: words("Setting", [...new Set(shape.writes.filter(own).map(columnWord))]),
    locking: shape.locking ? (/\bFOR\s+UPDATE\b/i.test(sql) ? "ForUpdate" : "ForShare") : "",
    limit: shape.limit ? "Limited" : "",
    columns: shape.kind === "select" ? words("Selecting", selectedColumns(sql, source)) : "",
  };
}

/** The columns a SELECT reads, as words: an alias, else a plain column; `*` is All; other expressions say nothing. */
function selectedColumns(sql: string, source: NameSource): string[] {
  const start = /^\s*SELECT\s+(?:DISTINCT\s+)?/i.exec(sql);
  if (!start) return [];
  const items: string[] = [];
  let depth = 0;
  let item = "";
  for (let i = start[0].length; i < sql.length; i++) {
    const char = sql.charAt(i);
    if (depth === 0 && /^\s+FROM\s/i.test(sql.slice(i, i + 6))) break;
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      items.push(item);
      item = "";
    } else item += char;
  }
  items.push(item);
  const words = items.flatMap((text) => {
    const alias = /\bAS\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\s*$/i.exec(text.trim());
    if (alias?.[1]) return [upperFirst(attributeName(alias[1]))];
    const column = /^(?:`?[A-Za-z_][A-Za-z0-9_]*`?\.)?(`?[A-Za-z_][A-Za-z0-9_]*`?|\*)$/.exec(text.trim());
    if (!column?.[1]) return [];
    if (column[1] === "*") return ["All"];
    const name = column[1].replace(/`/g, "");
    return [upperFirst(source.attributeOf(source.table, name) ?? attributeName(name))];
  });
  return [...new Set(words)];
}

/**
 * Names for statements that share one base name, each told apart by the qualifiers it takes, in order: a qualifier is
 * added while names clash, when the statements differ in it (or it moves a name off one already `taken`). Statements
 * that differ only in what no qualifier says keep their digest in the name, the statement's own id.
 */
export function distinctNames(
  base: string,
  statements: ReadonlyArray<{ qualifiers: Qualifiers; digest: string }>,
  taken: ReadonlySet<string>,
): string[] {
  // What the base already says is not said twice (a proposed name that is qualified already).
  const said = (qualifiers: Qualifiers, q: Qualifier) => (base.includes(qualifiers[q]) ? "" : qualifiers[q]);
  const chosen: Qualifier[] = [];
  const names = () => statements.map((s) => base + chosen.map((q) => said(s.qualifiers, q)).join(""));
  const clashes = (list: string[], i: number) => taken.has(list[i] ?? "") || list.indexOf(list[i] ?? "") !== i;
  for (const qualifier of QUALIFIERS) {
    const current = names();
    if (!current.some((_, i) => clashes(current, i))) break;
    const values = statements.map((s) => said(s.qualifiers, qualifier));
    const differ = new Set(values).size > 1;
    const freesTaken = current.some((name, i) => taken.has(name) && values[i] !== "");
    if (differ || freesTaken) chosen.push(qualifier);
  }
  const named = names();
  return named.map((name, i) => (clashes(named, i) ? `${name}Digest${statements[i]?.digest.slice(0, 8) ?? ""}` : name));
}
