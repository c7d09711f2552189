/**
 * The audit trail as the console shows it: the filters of a request read and checked (AdminError 400 with a message
 * per field), a page of entries, and the CSV export. The entries come from the runtime's AuditTrail.
 */
import { AUDIT_KINDS, type AuditKind, type AuditTrailQuery, isAuditKind } from "@ferry/runtime";
import { stringify } from "csv-stringify/sync";
import { AdminError } from "./errors.ts";

export interface AuditFilters {
  kind?: AuditKind;
  who?: string;
  /** YYYY-MM-DD, as typed (the whole day, UTC). */
  from?: string;
  to?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(value: string): boolean {
  return DAY.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** Reads the filters of a query string; AdminError 400 with a message per field when one will not do. */
export function readAuditFilters(query: Record<string, string | undefined>): AuditFilters {
  const fields: Record<string, string> = {};
  const filters: AuditFilters = {};
  const kind = query.kind?.trim() ?? "";
  if (kind !== "") {
    if (isAuditKind(kind)) filters.kind = kind;
    else fields.kind = `Choose one of: ${AUDIT_KINDS.join(", ")}.`;
  }
  const who = query.who?.trim() ?? "";
  if (who.length > 64) fields.who = "A name has at most 64 characters.";
  else if (who !== "") filters.who = who;
  for (const bound of ["from", "to"] as const) {
    const value = query[bound]?.trim() ?? "";
    if (value === "") continue;
    if (day(value)) filters[bound] = value;
    else fields[bound] = "Give a day as YYYY-MM-DD.";
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to) {
    fields.to = "The last day comes after the first.";
  }
  if (Object.keys(fields).length > 0) throw new AdminError(400, "invalid", "The filters were not used.", fields);
  return filters;
}

/** The trail's query for these filters (days are whole UTC days). */
export function auditQuery(filters: AuditFilters): AuditTrailQuery {
  return {
    ...(filters.kind === undefined ? {} : { kind: filters.kind }),
    ...(filters.who === undefined ? {} : { who: filters.who }),
    ...(filters.from === undefined ? {} : { from: `${filters.from}T00:00:00.000Z` }),
    ...(filters.to === undefined ? {} : { to: `${filters.to}T23:59:59.999Z` }),
  };
}

/** The filters as query-string parameters (for the next page's link and the export's). */
export function filterParams(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) params.set(name, value);
  return params;
}

/** The CSV columns of the export. */
export const AUDIT_CSV_COLUMNS = ["at", "who", "kind", "what", "before", "after", "reason", "forced"] as const;

/**
 * Rows as CSV (RFC 4180 quoting); a cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
 * or a carriage return) is prefixed with a quote, since names typed at a refused log-in end up here.
 */
export function auditCsv(
  rows: ReadonlyArray<Partial<Record<(typeof AUDIT_CSV_COLUMNS)[number], unknown>>>,
  header: boolean,
): string {
  return stringify(
    rows.map((row) => AUDIT_CSV_COLUMNS.map((column) => row[column] ?? "")),
    {
      header,
      columns: [...AUDIT_CSV_COLUMNS],
      escape_formulas: true,
      cast: { boolean: (value) => (value ? "true" : "false") },
    },
  );
}
