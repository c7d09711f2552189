/**
 * The phase's audit log: one control-table item per change (pk `PHASE#AUDIT`, sk `V#` + the version zero-padded to 12
 * digits, so newest first is one Query), written in the same transaction as the change it records.
 */
import type { Phase, PhaseFlags } from "../phases.ts";
import { storedPhase, storedSettings } from "./phase-item.ts";
import type { PhaseSettings } from "./phase-state.ts";
import { type ControlItem, controlKey } from "./table.ts";

/** The partition of the audit log. */
export const PHASE_AUDIT_PARTITION = "PHASE#AUDIT";

const VERSION_DIGITS = 12;

export type PhaseChangeKind = "phase" | "settings" | "announce" | "cancel";

const CHANGE_KINDS: readonly PhaseChangeKind[] = ["phase", "settings", "announce", "cancel"];

/** One entry of the audit log: a change and the state it resulted in. */
export interface PhaseAuditEntry {
  /** The version the change produced. */
  version: number;
  /** ISO-8601. */
  at: string;
  who: string;
  /**
   * A phase move, a change of the settings only (then `from` = `to`), or, for a move that changes the authoritative
   * store, its announcement and, when it does not happen, its cancellation (`from` -> `to` is the move announced; the
   * phase itself stays `from`).
   */
  change: PhaseChangeKind;
  from: Phase;
  to: Phase;
  reason?: string;
  forced: boolean;
  /** The resulting flags. */
  flags: PhaseFlags;
  /** The resulting settings. */
  settings: PhaseSettings;
}

export interface PhaseHistoryPage {
  /** Newest first. */
  entries: PhaseAuditEntry[];
  /** Present when there are older entries: pass it to the next history() call. */
  cursor?: string;
}

export function auditEntryToItem(entry: PhaseAuditEntry): ControlItem {
  const item: ControlItem = {
    ...controlKey({ pk: PHASE_AUDIT_PARTITION, sk: `V#${String(entry.version).padStart(VERSION_DIGITS, "0")}` }),
    version: { N: String(entry.version) },
    at: { S: entry.at },
    who: { S: entry.who },
    change: { S: entry.change },
    from: { N: String(entry.from) },
    to: { N: String(entry.to) },
    forced: { BOOL: entry.forced },
    flags: { M: Object.fromEntries(Object.entries(entry.flags).map(([name, on]) => [name, { BOOL: on }])) },
    settings: {
      M: Object.fromEntries(Object.entries(entry.settings).map(([name, value]) => [name, { N: String(value) }])),
    },
  };
  if (entry.reason !== undefined) item.reason = { S: entry.reason };
  return item;
}

export function auditEntryFromItem(item: ControlItem): PhaseAuditEntry {
  const flags = item.flags?.M ?? {};
  const entry: PhaseAuditEntry = {
    version: Number(item.version?.N),
    at: item.at?.S ?? "",
    who: item.who?.S ?? "",
    change: CHANGE_KINDS.find((kind) => kind === item.change?.S) ?? "phase",
    from: storedPhase(item.from),
    to: storedPhase(item.to),
    forced: item.forced?.BOOL === true,
    flags: {
      WRITE_MYSQL: flags.WRITE_MYSQL?.BOOL === true,
      WRITE_DDB: flags.WRITE_DDB?.BOOL === true,
      READ_MYSQL: flags.READ_MYSQL?.BOOL === true,
      READ_DDB: flags.READ_DDB?.BOOL === true,
    },
    settings: storedSettings(item.settings?.M ?? {}),
  };
  if (item.reason?.S !== undefined) entry.reason = item.reason.S;
  return entry;
}
