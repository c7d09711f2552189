/**
 * The audit trail: one control-table item per phase change and per operator action (log-ins refused, account changes,
 * and, as they come, backfill, validation, repair and the outbox), in one partition by time, so that operators read,
 * filter and export them as one log. Phase changes are written by PhaseStore in the change's own transaction (beside
 * the phase's versioned audit log); actions by whoever acts (the console, the CLI).
 *
 * Items: pk `AUDIT#TRAIL`, sk `<ISO-8601 time>#<id>` (newest first is one Query; a time range is a key condition):
 * `at`, `who` (and `whoKey`, lowercased, which the filter matches), `kind`, `what` (one line), and when they apply
 * `before`, `after` (the state before and after, as text), `reason`, `forced`. Refused log-ins, which anyone can
 * cause, expire after REFUSED_LOGIN_TTL_DAYS (the control table's TTL); everything else stays.
 */
import { randomBytes } from "node:crypto";
import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CONTROL_KEY,
  CONTROL_TTL_ATTRIBUTE,
  type ControlItem,
  controlKey,
  ensureControlTable,
  newestFirst,
} from "./table.ts";

/** The partition of the audit trail. */
export const AUDIT_TRAIL_PARTITION = "AUDIT#TRAIL";

/** What an entry is about. */
export const AUDIT_KINDS = [
  "phase",
  "settings",
  "announce",
  "cancel",
  "login",
  "login-refused",
  "logout",
  "account",
  "backfill",
  "validation",
  "repair",
  "outbox",
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditTrailEntry {
  /** ISO-8601. */
  at: string;
  /** Unique with `at`: the phase version for a phase change, else random. */
  id: string;
  /** The operator (or the name typed, for a refused log-in; or a tool). */
  who: string;
  kind: AuditKind;
  /** One line: what happened. */
  what: string;
  before?: string;
  after?: string;
  reason?: string;
  forced?: boolean;
}

export interface AuditTrailQuery {
  limit?: number;
  cursor?: string;
  kind?: AuditKind;
  who?: string;
  /** ISO-8601 bounds, inclusive. */
  from?: string;
  to?: string;
}

export interface AuditTrailPage {
  /** Newest first. */
  entries: AuditTrailEntry[];
  /** Present when older entries match: pass it to the next page() call (with the same filters). */
  cursor?: string;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** The longest a text field is kept (a name typed at a refused log-in can be anything). */
const MAX_TEXT = 500;
/** The longest a state before or after is kept (a phase's settings as JSON). */
const MAX_STATE = 4000;
/** How long a refused log-in is kept. */
export const REFUSED_LOGIN_TTL_DAYS = 90;

export function isAuditKind(kind: unknown): kind is AuditKind {
  return AUDIT_KINDS.includes(kind as AuditKind);
}

/** The item of an entry (PhaseStore puts it in its transaction). */
export function auditTrailItem(entry: AuditTrailEntry): ControlItem {
  const text = (value: string, max = MAX_TEXT) => ({ S: value.slice(0, max) || "-" });
  const item: ControlItem = {
    ...controlKey({ pk: AUDIT_TRAIL_PARTITION, sk: `${entry.at}#${entry.id}` }),
    at: { S: entry.at },
    who: text(entry.who),
    whoKey: text(entry.who.toLowerCase()),
    kind: { S: entry.kind },
    what: text(entry.what),
  };
  if (entry.kind === "login-refused") {
    const expires = Math.ceil(Date.parse(entry.at) / 1000) + REFUSED_LOGIN_TTL_DAYS * 86_400;
    item[CONTROL_TTL_ATTRIBUTE] = { N: String(expires) };
  }
  if (entry.before !== undefined) item.before = text(entry.before, MAX_STATE);
  if (entry.after !== undefined) item.after = text(entry.after, MAX_STATE);
  if (entry.reason !== undefined) item.reason = text(entry.reason);
  if (entry.forced !== undefined) item.forced = { BOOL: entry.forced };
  return item;
}

function entryFromItem(item: ControlItem): AuditTrailEntry {
  const sk = item[CONTROL_KEY.sort]?.S ?? "";
  const kind = item.kind?.S;
  const entry: AuditTrailEntry = {
    at: item.at?.S ?? "",
    id: sk.slice(sk.lastIndexOf("#") + 1),
    who: item.who?.S ?? "",
    kind: isAuditKind(kind) ? kind : "account",
    what: item.what?.S ?? "",
  };
  if (item.before?.S !== undefined) entry.before = item.before.S;
  if (item.after?.S !== undefined) entry.after = item.after.S;
  if (item.reason?.S !== undefined) entry.reason = item.reason.S;
  if (item.forced?.BOOL !== undefined) entry.forced = item.forced.BOOL;
  return entry;
}

/** The audit trail of one control table. */
export class AuditTrail {
  private readonly now: () => number;

  constructor(
    readonly client: DynamoDBClient,
    private readonly options: { tablePrefix: string; now?: () => number },
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Records an action, now. */
  async record(action: Omit<AuditTrailEntry, "at" | "id">): Promise<AuditTrailEntry> {
    const entry: AuditTrailEntry = {
      ...action,
      at: new Date(this.now()).toISOString(),
      id: randomBytes(6).toString("hex"),
    };
    await this.client.send(
      new PutItemCommand({
        TableName: await ensureControlTable(this.client, this.options.tablePrefix),
        Item: auditTrailItem(entry),
      }),
    );
    return entry;
  }

  /** One page, newest first, of the entries that match every filter given. */
  async page(query: AuditTrailQuery = {}): Promise<AuditTrailPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const filters: Array<{ attribute: string; value: { S: string } }> = [];
    if (query.kind !== undefined) filters.push({ attribute: "kind", value: { S: query.kind } });
    if (query.who !== undefined) filters.push({ attribute: "whoKey", value: { S: query.who.toLowerCase() } });
    const page = await newestFirst(this.client, {
      table: await ensureControlTable(this.client, this.options.tablePrefix),
      partition: AUDIT_TRAIL_PARTITION,
      limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      filters,
      // `<to>#~` is above every id at `to`; `<from>` is below every id at `from`.
      sortRange: {
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: `${query.to}#~` }),
      },
      readAhead: filters.length > 0 ? 100 : 0,
    });
    return {
      entries: page.items.map(entryFromItem),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
  }

  /** Every matching entry, newest first, a page at a time (for an export). */
  async *pages(query: Omit<AuditTrailQuery, "cursor" | "limit"> = {}): AsyncGenerator<AuditTrailEntry[]> {
    let cursor: string | undefined;
    do {
      const page = await this.page({ ...query, limit: MAX_LIMIT, ...(cursor === undefined ? {} : { cursor }) });
      yield page.entries;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  /** Every matching entry, newest first. */
  async *all(query: Omit<AuditTrailQuery, "cursor" | "limit"> = {}): AsyncGenerator<AuditTrailEntry> {
    for await (const entries of this.pages(query)) yield* entries;
  }
}
