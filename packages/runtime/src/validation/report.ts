/**
 * A validation's report, and where it is kept: the control table's partition `VALIDATION#REPORT`, one item per report
 * under its id (which starts with its time, so the partition sorts oldest to newest), the report as JSON text. What a
 * repair did is added to the report it repaired.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Codec, concealKept } from "../codec/index.ts";
import {
  CONTROL_KEY,
  type ControlItem,
  controlKey,
  controlTableName,
  ensureControlTable,
  getControlItem,
  newestFirst,
  putControlItem,
} from "../control/table.ts";

/** The control-table partition of the reports. */
export const VALIDATION_REPORTS = "VALIDATION#REPORT";

/** What kind of difference: a row without its item or a marker of its values; an item or marker without its row. */
export type DifferenceKind =
  | "missing-item"
  | "missing-marker"
  | "mismatched"
  | "extra-item"
  | "orphan-marker"
  | "unreadable";

/** One field that differs, each store's value in the codec's normalised form (null: absent). */
export interface FieldDifference {
  field: string;
  mysql: string | null;
  dynamodb: string | null;
}

/** One difference, as found and confirmed by the recheck. */
export interface Difference {
  entity: string;
  kind: DifferenceKind;
  /** The item's identity (encodeKey's JSON: bigints as {"$bigint"}, bytes as {"$bytes"}); for a marker, its owner's. */
  key: unknown;
  fields: FieldDifference[];
  /** Markers: the unique rule and the marker's key. */
  rule?: string;
  marker?: string;
  /** Why, in words (an orphan marker's, a row the codec cannot read). */
  reason?: string;
}

export interface EntityReport {
  entity: string;
  /** Rows read from MySQL and checked (with a sample: those drawn). */
  rows: number;
  /** The entity's items scanned in DynamoDB (with a sample: in the segments drawn). */
  items: number;
  /** Unique markers scanned. */
  markers: number;
  /** Rows whose item and markers are there and equal. */
  matched: number;
  missing: number;
  extra: number;
  mismatched: number;
  /** Rows the codec cannot read or map (ferry backfill rejects them too). */
  unreadable: number;
  /** Differences seen at first look that were gone at the recheck (writes in flight). */
  settled: number;
  /** Items whose denormalised copies differ from their source now: not a difference (see docs/validation.md). */
  staleCopies: number;
  /** The first differences (up to the report's limit). */
  differences: Difference[];
}

export interface RepairSummary {
  at: string;
  who: string;
  phase: number;
  /** The store written: DynamoDB while MySQL is authoritative (phases 1-3), MySQL in phase 4. */
  target: "dynamodb" | "mysql";
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  markersRestored: number;
  markersFreed: number;
  /** Items whose index key attributes were rendered again (a wrong, missing or extra GSI key). */
  indexKeysRestored?: number;
  failed: number;
  /** Differences not attempted because the repair stopped (`stopped` says why). */
  skipped: number;
  /** Why the repair stopped before every difference was attempted: the phase left 1-4, or this process may not write. */
  stopped?: string;
  /** The phase some keys were repaired under when it moved during the repair (a 3 -> 4 move: MySQL became the target). */
  phaseMoved?: number;
  /** The keys it changed (up to the report's limit), and what it did to each. */
  changes: Array<{ entity: string; kind: DifferenceKind; key: unknown; marker?: string; done: string }>;
  /** Differences left when exactly the repaired keys were validated again. */
  left: number;
}

/**
 * Items of a scanned table that no entity of the contract claims (a full validation only): no `__entity` and not a
 * unique marker of an entity (`UNIQUE#<Entity>#...`), or an `__entity` that is not an entity of the contract or of this
 * table. Each counts as a difference; repair does not touch them (nothing says what they should be).
 */
export interface Unclaimed {
  count: number;
  /** The first ones (up to 20): the table (the contract's name), the item's key, and why no entity claims it. */
  items: Array<{ table: string; key: Record<string, string>; reason: string }>;
}

export interface ValidationReport {
  id: string;
  /** ISO-8601: when it started. */
  at: string;
  who: string;
  contract: string;
  /** The fraction of rows checked (1: all). */
  sample: number;
  /** Every entity of the contract was checked, every row: the guard rail may take it. */
  full: boolean;
  entities: EntityReport[];
  /** A full validation's items that no entity claims (absent for a partial or sampled one, which does not look). */
  unclaimed?: Unclaimed;
  clean: boolean;
  totals: {
    rows: number;
    items: number;
    markers: number;
    matched: number;
    missing: number;
    extra: number;
    mismatched: number;
    unreadable: number;
    /** Items no entity claims (a full validation's; 0 otherwise). Counted in `differences`. */
    unclaimed: number;
    differences: number;
  };
  itemsPerSecond: number;
  durationMs: number;
  /**
   * Whether its result was recorded for the 3 -> 4 guard rail (absent: not asked, as for a partial clean validation or
   * one not recorded at all); not recorded when a validation that started later had recorded its own.
   */
  guardRail?: { recorded: boolean; reason?: string };
  repair?: RepairSummary;
}

/** A report's id: its start time and a random suffix (ids sort by time). */
export function reportId(at: string): string {
  return `${at}#${Math.random().toString(16).slice(2, 10).padEnd(8, "0")}`;
}

function reportItem(report: ValidationReport): ControlItem {
  return {
    ...controlKey({ pk: VALIDATION_REPORTS, sk: report.id }),
    at: { S: report.at },
    clean: { BOOL: report.clean },
    report: { S: JSON.stringify(report) },
  };
}

/** Keeps a report (again, when a repair added to it). */
export async function storeValidationReport(
  client: DynamoDBClient,
  tablePrefix: string,
  report: ValidationReport,
): Promise<void> {
  await putControlItem(client, tablePrefix, reportItem(report));
}

/** One report by its id; undefined when there is none. */
export async function getValidationReport(
  client: DynamoDBClient,
  tablePrefix: string,
  id: string,
): Promise<ValidationReport | undefined> {
  const item = await getControlItem(client, tablePrefix, { pk: VALIDATION_REPORTS, sk: id });
  return item?.report?.S === undefined ? undefined : (JSON.parse(item.report.S) as ValidationReport);
}

/** The reports, newest first: up to `limit` after `cursor` (a page's cursor is there when more follow). */
export async function listValidationReports(
  client: DynamoDBClient,
  tablePrefix: string,
  options: { limit?: number; cursor?: string } = {},
): Promise<{ reports: ValidationReport[]; cursor?: string }> {
  await ensureControlTable(client, tablePrefix);
  const page = await newestFirst(client, {
    table: controlTableName(tablePrefix),
    partition: VALIDATION_REPORTS,
    limit: options.limit ?? 20,
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });
  const reports = page.items
    .filter((item) => item[CONTROL_KEY.sort]?.S !== undefined && item.report?.S !== undefined)
    .map((item) => JSON.parse(item.report?.S ?? "{}") as ValidationReport);
  return page.cursor === undefined ? { reports } : { reports, cursor: page.cursor };
}

/**
 * A report as it may be shown by the current contract: kept before an attribute was marked sensitive, its values show
 * as tags now too.
 */
export function shownReport(codec: Codec, report: ValidationReport): ValidationReport {
  const sensitive = (entity: string, field: string) =>
    codec.entities.includes(entity) &&
    codec.entity(entity).attributes.some((attribute) => attribute.name === field && attribute.sensitive);
  return {
    ...report,
    entities: report.entities.map((entity) => ({
      ...entity,
      differences: entity.differences.map((difference) => ({
        ...difference,
        fields: difference.fields.map((field) =>
          sensitive(difference.entity, field.field)
            ? {
                ...field,
                mysql: concealKept(field.mysql, `${difference.entity}.${field.field}`),
                dynamodb: concealKept(field.dynamodb, `${difference.entity}.${field.field}`),
              }
            : field,
        ),
      })),
    })),
  };
}
