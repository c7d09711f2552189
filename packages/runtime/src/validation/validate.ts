/**
 * validate(): both stores compared, entity by entity, streaming (docs/validation.md):
 *
 * 1. MySQL's rows in primary-key pages (SourceRows.page over the whole key range); each page's expected items and
 *    markers read with consistent BatchGetItem and compared (EntityComparison.compareRows).
 * 2. A parallel Scan (Segment / TotalSegments) of each table once, for all the validated entities it holds, filtered
 *    on their `__entity` or marker prefixes: an item whose row is gone (extra), a marker whose owner is gone or does
 *    not hold its value (orphan).
 * 3. What differed at first look is read again, both sides, after `recheckMs`, and reported only when it still
 *    differs: a live write in flight between the two stores is not a difference.
 *
 * Only the keys that differ are held in memory. The report goes to the control table (VALIDATION#REPORT), and the
 * result to VALIDATION/LATEST for the 3 -> 4 guard rail (recordValidation) when the validation covered every row of
 * every entity, or found differences.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import { type Codec, ENTITY_ATTRIBUTE, type EntityValue, type Item } from "../codec/index.ts";
import { currentRunOfDualWrites } from "../control/backfill-status.ts";
import { recordValidation } from "../control/validation-result.ts";
import { markerPrefix } from "../dynamodb/orphan-markers.ts";
import { tableExists } from "../dynamodb/table-probe.ts";
import { uniqueRules } from "../dynamodb/unique-markers.ts";
import { MAX_WORDS, wordIndexes } from "../dynamodb/word-items.ts";
import { escapeId, mysqlStatements } from "../mysql/sql.ts";
import type { MysqlExecutor } from "../mysql/store.ts";
import { decodeKey } from "../outbox/entry.ts";
import { SourceRows } from "../rows/index.ts";
import { retryTransient } from "../transient.ts";
import { EntityComparison, MarkerDigests } from "./compare.ts";
import {
  type Difference,
  type EntityReport,
  reportId,
  storeValidationReport,
  type Unclaimed,
  type ValidationReport,
} from "./report.ts";

/** The stores to compare. */
export interface ValidationServices {
  codec: Codec;
  /** A pool (or connection) on the source database. */
  mysql: MysqlExecutor;
  client: DynamoDBClient;
  tablePrefix: string;
}

/** Where validation is, for a progress bar: an entity's rows read from MySQL, a table's items scanned in DynamoDB. */
export interface ValidationProgress {
  /** The entity ("rows"), or the contract's name of the table ("items"). */
  entity: string;
  /** "markers": a second look at a table's markers, when the scan found them unsure (docs/validation.md). */
  stage: "rows" | "items" | "markers";
  done: number;
  /** An estimate for "items" (the table's item count, every entity's). */
  total: number;
}

export interface ValidateOptions {
  /** What the report records as its contract (the file, or the contract's name). */
  contract?: string;
  /** The entities to check (default: every entity of the contract). */
  entities?: readonly string[];
  /** The fraction of rows checked, 0 < R <= 1 (default 1); the scan for extra items reads about as much. */
  sample?: number;
  /** How long to wait before reading a difference again (default 1500 ms). */
  recheckMs?: number;
  /** Scan segments read at once (default 4). */
  parallel?: number;
  /** Rows per MySQL page (default 500). */
  pageRows?: number;
  /** Differences kept in the report per entity (default 20; every one is counted). */
  maxDifferences?: number;
  who?: string;
  onProgress?: (progress: ValidationProgress) => void;
  /** Told before the recheck of an entity's differences, with what the first look found (tests land writes here). */
  beforeRecheck?: (entity: string, suspects: readonly Difference[]) => Promise<void> | void;
  /** Store the report and record the result for the guard rail (default true). */
  record?: boolean;
  /** Where random draws for the sample come from (tests). */
  random?: () => number;
}

/** A validation's report and every difference it confirmed (the report keeps the first few per entity). */
export interface ValidationOutcome {
  report: ValidationReport;
  differences: Difference[];
}

/** Validation was asked for something it cannot do: nothing was compared or recorded. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
}

export const DEFAULT_RECHECK_MS = 1500;
export const DEFAULT_PARALLEL = 4;
const DEFAULT_PAGE_ROWS = 500;
/** Pages of MySQL rows compared at once. */
const PAGES_IN_FLIGHT = 3;
const DEFAULT_MAX_DIFFERENCES = 20;
/** Unclaimed items listed in the report (every one is counted). */
const UNCLAIMED_KEPT = 20;
/** Looks again at a difference that keeps changing (a hot key) before it is reported as it is. */
const MAX_RECHECKS = 3;

/** A validation's entities, sample and parallel scan segments, checked (ValidationError) before anything is read. */
export function checkValidateOptions(
  codec: Codec,
  options: Pick<ValidateOptions, "entities" | "sample" | "parallel">,
): { entities: readonly string[]; sample: number; parallel: number } {
  const entities = options.entities ?? codec.entities;
  for (const entity of entities) {
    if (!codec.entities.includes(entity)) {
      throw new ValidationError(`the contract has no entity '${entity}' (it has ${codec.entities.join(", ")})`);
    }
  }
  const sample = options.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) {
    throw new ValidationError(`the sample is a fraction of the rows, more than 0 and at most 1; got ${sample}`);
  }
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 1000) {
    throw new ValidationError(`the scan's parallel segments are a whole number from 1 to 1000; got ${parallel}`);
  }
  return { entities, sample, parallel };
}

export async function validate(
  services: ValidationServices,
  options: ValidateOptions = {},
): Promise<ValidationOutcome> {
  const started = Date.now();
  const at = new Date(started).toISOString();
  const { codec } = services;
  const { entities, sample, parallel } = checkValidateOptions(codec, options);
  await checkTables(services, entities);
  const dualWriteSince = await currentRunOfDualWrites(services.client, services.tablePrefix);

  const checker = new EntityChecker(services, { ...options, entities, sample, parallel });
  const states = new Map<string, EntityState>();
  for (const entity of entities) {
    states.set(entity, {
      report: emptyReport(entity),
      suspects: [],
      digests: sample === 1 ? new MarkerDigests() : undefined,
    });
  }
  // Each table once, for every entity it holds (one table may hold them all).
  const byTable = new Map<string, Map<string, EntityState>>();
  for (const [entity, state] of states) {
    const table = codec.entity(entity).table;
    const group = byTable.get(table) ?? new Map<string, EntityState>();
    group.set(entity, state);
    byTable.set(table, group);
  }
  // A full validation also reads what no entity of the contract claims, in every table it scans.
  const full = sample === 1 && codec.entities.every((entity) => entities.includes(entity));
  const unclaimed: Unclaimed | undefined = full ? { count: 0, items: [] } : undefined;
  // The rows (1) and the scan (2) are independent reads whose suspects are settled together (3): they run at once.
  // The first of them to fail stops the other (checked between pages).
  const phases = await Promise.allSettled(
    [
      async () => {
        for (const [entity, state] of states) await checker.readRows(entity, state);
      },
      async () => {
        for (const [table, group] of byTable) await checker.scanTable(table, group, unclaimed);
      },
    ].map((phase) =>
      phase().catch((error: unknown) => {
        checker.stop(error);
        throw error;
      }),
    ),
  );
  for (const phase of phases) if (phase.status === "rejected") throw phase.reason;
  // A full validation reads markers' owners only in the digest buckets where the markers the scan found are not
  // exactly those its items should have (an orphan, a missing marker, a write during the scan).
  for (const [table, group] of byTable) {
    const unsure = new Map<string, EntityState>();
    const buckets = new Map<string, ReadonlySet<number>>();
    for (const [entity, state] of group) {
      const differing = state.digests?.differing();
      if (differing === undefined || differing.size === 0) continue;
      unsure.set(entity, state);
      buckets.set(entity, differing);
    }
    if (unsure.size > 0) await checker.scanTable(table, unsure, undefined, buckets);
  }
  const reports: EntityReport[] = [];
  const differences: Difference[] = [];
  for (const [entity, state] of states) {
    const checked = await checker.settle(entity, state);
    reports.push(checked.report);
    differences.push(...checked.differences);
  }
  const report = summarize({
    at,
    started,
    who: options.who ?? "ferry",
    contract: options.contract ?? codec.contract.name,
    sample,
    full,
    entities: reports,
    ...(unclaimed === undefined ? {} : { unclaimed }),
  });
  if (options.record !== false) {
    // A partial clean validation vouches for part of the data only: it leaves the last full result as it is. The
    // record is conditional on the start: a validation that started later has looked later, and its result stands.
    if (report.full || !report.clean) {
      // Conditional on `at`: tried again after a dropped connection that had written it, it passes again.
      const recorded = await retryTransient(() =>
        recordValidation(services.client, services.tablePrefix, {
          clean: report.clean,
          mismatches: report.totals.differences,
          at,
          reportId: report.id,
          ...(dualWriteSince === undefined ? {} : { dualWriteSince }),
        }),
      );
      report.guardRail = recorded.recorded
        ? { recorded: true }
        : {
            recorded: false,
            reason:
              `not recorded for the guard rail: a validation that started later (${recorded.standing?.at ?? "?"}` +
              `${recorded.standing?.reportId === undefined ? "" : `, report ${recorded.standing.reportId}`}) ` +
              `recorded its result (${recorded.standing?.clean ? "clean" : "not clean"}), which stands`,
          };
    }
    // A finished validation is not lost to one dropped connection.
    await retryTransient(() => storeValidationReport(services.client, services.tablePrefix, report));
  }
  return { report, differences };
}

/**
 * Validates exactly these keys again (a repair's): their rows, items and markers, and the marker ids given. Nothing
 * is recorded; the report says what is left.
 */
export async function validateKeys(
  services: ValidationServices,
  keys: ReadonlyArray<{ entity: string; key: unknown; marker?: string }>,
  options: Pick<ValidateOptions, "recheckMs" | "who" | "contract" | "maxDifferences"> = {},
): Promise<ValidationOutcome> {
  const started = Date.now();
  const checker = new EntityChecker(services, { ...options, sample: 1, parallel: 1 });
  const byEntity = new Map<string, { keys: EntityValue[]; markers: string[] }>();
  for (const { entity, key, marker } of keys) {
    let entry = byEntity.get(entity);
    if (!entry) {
      entry = { keys: [], markers: [] };
      byEntity.set(entity, entry);
    }
    if (marker !== undefined) entry.markers.push(marker);
    const identity = decodeKey(JSON.stringify(key));
    const entityCodec = services.codec.entity(entity);
    if (entityCodec.identity.every((attribute) => identity[attribute] !== undefined)) entry.keys.push(identity);
  }
  const reports: EntityReport[] = [];
  const differences: Difference[] = [];
  for (const [entity, entry] of byEntity) {
    const checked = await checker.recheck(entity, entry.keys, entry.markers);
    reports.push(checked.report);
    differences.push(...checked.differences);
  }
  const report = summarize({
    at: new Date(started).toISOString(),
    started,
    who: options.who ?? "ferry",
    contract: options.contract ?? services.codec.contract.name,
    sample: 1,
    full: false,
    entities: reports,
  });
  return { report, differences };
}

/** Both sides of each entity are there: MySQL's table and DynamoDB's (ValidationError otherwise). */
async function checkTables(services: ValidationServices, entities: readonly string[]): Promise<void> {
  const probed = new Set<string>();
  for (const entity of entities) {
    const table = mysqlStatements(services.codec, entity).table;
    const [rows] = await retryTransient(() =>
      services.mysql.query({
        sql: "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
        values: [table],
      }),
    );
    if (Number((rows as Array<{ n: number }>)[0]?.n ?? 0) === 0) {
      throw new ValidationError(`${entity}: MySQL has no table '${table}' in this database`);
    }
    // Each table once (one may hold every entity), without DescribeTable (dynamodb/table-probe.ts).
    const dynamoTable = `${services.tablePrefix}${services.codec.entity(entity).table}`;
    if (probed.has(dynamoTable)) continue;
    const keyNames = services.codec.entity(entity).keyNames;
    if (!(await retryTransient(() => tableExists(services.client, dynamoTable, keyNames)))) {
      throw new ValidationError(
        `${entity}: DynamoDB has no table '${dynamoTable}' (create it with ferry tables apply)`,
      );
    }
    probed.add(dynamoTable);
  }
}

/** One entity's counts and the differences seen at first look, while it is validated. */
interface EntityState {
  report: EntityReport;
  suspects: Difference[];
  /** A full validation's marker digests, from the scan (MarkerDigests); undefined with a sample. */
  digests: MarkerDigests | undefined;
}

interface CheckerOptions extends ValidateOptions {
  sample: number;
  parallel: number;
}

/** One entity's validation: both passes, then the recheck. */
class EntityChecker {
  private readonly rows: SourceRows;
  private readonly rowCounts = new Map<string, Promise<number>>();
  private stopped: { reason: unknown } | undefined;

  /** Stops every read loop of this validation at its next page (one of them failed). */
  stop(reason: unknown): void {
    this.stopped ??= { reason };
  }

  private throwIfStopped(): void {
    if (this.stopped !== undefined) throw this.stopped.reason;
  }

  constructor(
    private readonly services: ValidationServices,
    private readonly options: CheckerOptions,
  ) {
    this.rows = new SourceRows(services.mysql, services.codec);
  }

  private comparison(entity: string): EntityComparison {
    const table = `${this.services.tablePrefix}${this.services.codec.entity(entity).table}`;
    return new EntityComparison(this.services.codec, entity, this.services.client, this.rows, table);
  }

  /** 1. MySQL's rows of an entity, a page at a time, against their items and markers. */
  async readRows(entity: string, state: EntityState): Promise<void> {
    const comparison = this.comparison(entity);
    const random = this.options.random ?? Math.random;
    const totalRows = await this.rowCount(entity);
    const pageRows = this.options.pageRows ?? DEFAULT_PAGE_ROWS;
    let after: EntityValue | undefined;
    let read = 0;
    // Pages are compared PAGES_IN_FLIGHT at a time while the next ones are read (the order of the suspects does not
    // matter: they are settled together at the end).
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const compare = async (values: EntityValue[]) => {
      const compared = await comparison.compareRows(values);
      state.suspects.push(...compared.differences);
      state.report.staleCopies += compared.staleCopies;
    };
    let reported = 0;
    for (;;) {
      this.throwIfStopped();
      const page = await retryTransient(() =>
        this.rows.page({ entity, after: undefined, through: undefined }, { after, limit: pageRows }),
      );
      if (page.length === 0) break;
      after = page.at(-1)?.key;
      read += page.length;
      const drawn = this.options.sample === 1 ? page : page.filter(() => random() < this.options.sample);
      const values: EntityValue[] = [];
      for (const row of drawn) {
        if ("error" in row) {
          state.suspects.push({
            entity,
            kind: "unreadable",
            key: JSON.parse(JSON.stringify(row.key, bigints)),
            fields: [],
            reason: String((row.error as Error)?.message ?? row.error),
          });
        } else values.push(row.value);
      }
      state.report.rows += drawn.length;
      const done = read;
      const pending: Promise<void> = compare(values)
        .then(
          () => {
            // Pages finish out of order: the bar shows the furthest page done.
            reported = Math.max(reported, done);
            this.options.onProgress?.({ entity, stage: "rows", done: reported, total: Math.max(totalRows, reported) });
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(pending));
      inFlight.add(pending);
      if (inFlight.size >= PAGES_IN_FLIGHT) await Promise.race(inFlight);
      if (failure !== undefined || page.length < pageRows) break;
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
  }

  /**
   * 2. One DynamoDB table, scanned once for all the entities it holds that are validated: their items and markers,
   * for those without their row. Progress is told under the table's name.
   */
  async scanTable(
    table: string,
    states: ReadonlyMap<string, EntityState>,
    unclaimed?: Unclaimed,
    /** Only the entities' markers in these digest buckets, each checked against its owner (after the full scan). */
    onlyMarkers?: ReadonlyMap<string, ReadonlySet<number>>,
  ): Promise<void> {
    const entities = [...states.keys()];
    const comparisons = new Map(entities.map((entity) => [entity, this.comparison(entity)]));
    const first = this.services.codec.entity(entities[0] as string);
    const physical = comparisons.get(entities[0] as string)?.table ?? table;
    const names: Record<string, string> = { "#pk": first.keyNames.partition };
    if (onlyMarkers === undefined) names["#e"] = ENTITY_ATTRIBUTE;
    const values: Record<string, AttributeValue> = {};
    const conditions: string[] = [];
    for (const [index, entity] of entities.entries()) {
      if (onlyMarkers === undefined) {
        values[`:e${index}`] = { S: entity };
        conditions.push(`#e = :e${index}`);
      }
      values[`:m${index}`] = { S: markerPrefix(this.services.codec.entity(entity)) };
      conditions.push(`begins_with(#pk, :m${index})`);
    }
    const markerOwner = (item: Item): string | undefined => {
      const id = item[first.keyNames.partition]?.S;
      return id === undefined
        ? undefined
        : entities.find((entity) => id.startsWith(markerPrefix(this.services.codec.entity(entity))));
    };
    const wordItemOwner = (item: Item): string | undefined => {
      const id = item[first.keyNames.partition]?.S;
      return id === undefined ? undefined : entities.find((entity) => id.startsWith(`WORDS#${entity}#`));
    };
    const random = this.options.random ?? Math.random;
    // The rows of the entities this validation reads are counted anyway; the table's others are estimated.
    const validated = new Set(this.options.entities ?? this.services.codec.entities);
    const estimate = await estimateTableItems(this.services, first.table, (entity) =>
      validated.has(entity) ? this.rowCount(entity) : undefined,
    );
    const segments = scanSegments(this.options.parallel, this.options.sample, random, estimate);
    let scanned = 0;
    const limit = pLimit(this.options.parallel);
    await Promise.all(
      segments.chosen.map((segment) =>
        limit(async () => {
          if (this.stopped !== undefined) return;
          // The next page of the scan is asked for while this one is compared; a page whose connection dropped or timed
          // out is asked for again (a validation runs for minutes: one such must not undo it).
          const scan = (start: Record<string, AttributeValue> | undefined) => {
            const page = retryTransient(() =>
              this.services.client.send(
                new ScanCommand({
                  TableName: physical,
                  Segment: segment,
                  TotalSegments: segments.total,
                  ConsistentRead: true,
                  // Every item when what no entity claims is looked for too.
                  ...(unclaimed === undefined
                    ? {
                        FilterExpression: conditions.join(" OR "),
                        ExpressionAttributeNames: names,
                        ExpressionAttributeValues: values,
                      }
                    : {}),
                  ExclusiveStartKey: start,
                }),
              ),
            );
            page.catch(() => {}); // awaited in turn below
            return page;
          };
          let next: ReturnType<typeof scan> | undefined = scan(undefined);
          while (next !== undefined) {
            this.throwIfStopped();
            const out: ScanCommandOutput = await next;
            next = out.LastEvaluatedKey === undefined ? undefined : scan(out.LastEvaluatedKey);
            const items = new Map<string, Item[]>(entities.map((entity) => [entity, []]));
            const markers = new Map<string, Item[]>(entities.map((entity) => [entity, []]));
            for (const item of out.Items ?? []) {
              const entity = item[ENTITY_ATTRIBUTE]?.S;
              if (entity !== undefined && items.has(entity)) items.get(entity)?.push(item);
              else {
                const owner = markerOwner(item);
                if (owner !== undefined) markers.get(owner)?.push(item);
                // An entity's word items (dynamodb/word-items.ts) are its own: not compared yet, not unclaimed.
                else if (wordItemOwner(item) !== undefined) continue;
                else if (unclaimed !== undefined) {
                  unclaimed.count++;
                  if (unclaimed.items.length < UNCLAIMED_KEPT) {
                    unclaimed.items.push({
                      table,
                      key: Object.fromEntries(
                        [first.keyNames.partition, first.keyNames.sort]
                          .filter((name): name is string => name !== undefined)
                          .map((name) => [name, item[name]?.S ?? JSON.stringify(item[name] ?? null)]),
                      ),
                      reason: this.unclaimedReason(item, entity),
                    });
                  }
                }
              }
            }
            for (const entity of entities) {
              const state = states.get(entity) as EntityState;
              const comparison = comparisons.get(entity) as EntityComparison;
              const mine = items.get(entity) ?? [];
              const marks = markers.get(entity) ?? [];
              if (onlyMarkers !== undefined) {
                const buckets = onlyMarkers.get(entity);
                const unsure = marks.filter((marker) => buckets?.has(comparison.markerBucket(marker)));
                if (unsure.length > 0) state.suspects.push(...(await comparison.compareMarkers(unsure)));
                continue;
              }
              state.report.items += mine.length;
              state.report.markers += marks.length;
              const digests = state.digests;
              if (mine.length > 0) state.suspects.push(...(await comparison.compareItems(mine, digests)));
              // A full validation reads owners only where the digests disagree (validate()); a sample reads them all.
              if (digests !== undefined) for (const marker of marks) comparison.foundMarker(digests, marker);
              else if (marks.length > 0) state.suspects.push(...(await comparison.compareMarkers(marks)));
            }
            scanned += out.ScannedCount ?? 0;
            this.options.onProgress?.({
              entity: table,
              stage: onlyMarkers === undefined ? "items" : "markers",
              done: scanned,
              total: Math.max(estimate, scanned),
            });
          }
        }),
      ),
    );
    this.options.onProgress?.({
      entity: table,
      stage: onlyMarkers === undefined ? "items" : "markers",
      done: scanned,
      total: scanned,
    });
  }

  /** Why no entity of the contract claims an item of a table a full validation scanned. */
  private unclaimedReason(item: Item, entity: string | undefined): string {
    const codec = this.services.codec;
    if (entity === undefined) {
      const id = item[ENTITY_ATTRIBUTE] === undefined ? undefined : JSON.stringify(item[ENTITY_ATTRIBUTE]);
      return id === undefined
        ? `no ${ENTITY_ATTRIBUTE} attribute, and not a unique marker of an entity`
        : `${ENTITY_ATTRIBUTE} is not a string (${id})`;
    }
    if (!codec.entities.includes(entity)) return `${ENTITY_ATTRIBUTE} '${entity}' is not an entity of the contract`;
    return `${ENTITY_ATTRIBUTE} '${entity}' is an entity of another table (${codec.entity(entity).table})`;
  }

  /** 3. What differed at first look, read again; the entity's report. */
  async settle(entity: string, state: EntityState): Promise<{ report: EntityReport; differences: Difference[] }> {
    const { report, suspects } = state;
    const confirmed = suspects.length === 0 ? [] : await this.confirm(this.comparison(entity), suspects);
    report.settled = Math.max(0, distinct(suspects).length - confirmed.length);
    this.count(report, confirmed);
    report.matched = Math.max(0, report.rows - rowsDiffering(confirmed));
    return { report, differences: confirmed };
  }

  /** validateKeys' work for one entity: these identities and markers, looked at once. */
  async recheck(
    entity: string,
    keys: readonly EntityValue[],
    markers: readonly string[],
  ): Promise<{ report: EntityReport; differences: Difference[] }> {
    const comparison = this.comparison(entity);
    const report = emptyReport(entity);
    const found = distinct([...(await comparison.compareKeys(keys)), ...(await comparison.compareMarkerIds(markers))]);
    report.rows = keys.length;
    report.markers = markers.length;
    this.count(report, found);
    report.matched = Math.max(0, report.rows - rowsDiffering(found));
    return { report, differences: found };
  }

  /**
   * The suspects that still differ after recheckMs, read again both sides. A difference that changed between two
   * looks (its row or item moved: other values, another kind) is a key still being written: it is looked at again,
   * up to MAX_RECHECKS times, and reported as the last look found it. One that looks the same twice is confirmed.
   */
  private async confirm(comparison: EntityComparison, suspects: readonly Difference[]): Promise<Difference[]> {
    const confirmed: Difference[] = [];
    let looking = distinct(suspects);
    for (let round = 1; ; round++) {
      await this.options.beforeRecheck?.(comparison.entity, looking);
      await new Promise((resolve) => setTimeout(resolve, this.options.recheckMs ?? DEFAULT_RECHECK_MS));
      const found = await this.lookAgain(comparison, looking);
      const before = new Map(looking.map((difference) => [differenceId(difference), signature(difference)]));
      const moving = found.filter((difference) => before.get(differenceId(difference)) !== signature(difference));
      if (moving.length === 0 || round >= MAX_RECHECKS) return distinct([...confirmed, ...found]);
      confirmed.push(...found.filter((difference) => !moving.includes(difference)));
      looking = moving;
    }
  }

  /** Everything about the suspects' keys and markers now. */
  private async lookAgain(comparison: EntityComparison, suspects: readonly Difference[]): Promise<Difference[]> {
    const keys = new Map<string, EntityValue>();
    const markers = new Set<string>();
    const unreadable: Difference[] = [];
    const identity = this.services.codec.entity(comparison.entity).identity;
    for (const suspect of suspects) {
      if (suspect.kind === "orphan-marker" && suspect.marker !== undefined) {
        markers.add(suspect.marker);
        continue;
      }
      const key = decodeKey(JSON.stringify(suspect.key));
      if (identity.every((attribute) => key[attribute] !== undefined)) keys.set(JSON.stringify(suspect.key), key);
      else unreadable.push(suspect);
    }
    const again: Difference[] = [...unreadable];
    const batch = 500;
    const all = [...keys.values()];
    for (let start = 0; start < all.length; start += batch) {
      again.push(...(await comparison.compareKeys(all.slice(start, start + batch))));
    }
    again.push(...(await comparison.compareMarkerIds([...markers])));
    return distinct(again);
  }

  private count(report: EntityReport, differences: readonly Difference[]): void {
    for (const difference of differences) {
      if (difference.kind === "missing-item" || difference.kind === "missing-marker") report.missing++;
      else if (difference.kind === "extra-item" || difference.kind === "orphan-marker") report.extra++;
      else if (difference.kind === "mismatched") report.mismatched++;
      else report.unreadable++;
    }
    report.differences = differences.slice(0, this.options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES);
  }

  /** An entity's rows in MySQL, counted once per validation. */
  private rowCount(entity: string): Promise<number> {
    let count = this.rowCounts.get(entity);
    if (count === undefined) {
      count = retryTransient(() => this.countRows(entity));
      this.rowCounts.set(entity, count);
    }
    return count;
  }

  private async countRows(entity: string): Promise<number> {
    const table = mysqlStatements(this.services.codec, entity).table;
    const [rows] = await this.services.mysql.query({
      sql: `SELECT COUNT(*) AS n FROM ${escapeId(table)}`,
    });
    return Number((rows as Array<{ n: number | string }>)[0]?.n ?? 0);
  }
}

/**
 * About how many items a contract table (`table`, without the prefix) holds, from MySQL (not DynamoDB's ItemCount:
 * DescribeTable stops DynamoDB Local for seconds, dynamodb/table-probe.ts): for each row of each entity the table
 * holds, its item, its unique markers and at most MAX_WORDS word items per word index. `counted` gives an entity's
 * exact row count where the caller has one; the others are InnoDB's estimate from information_schema (no table is
 * read; a table that is not there counts 0). It only decides how many segments a scan is cut into, and too many costs
 * less than too few (scanSegments).
 */
export async function estimateTableItems(
  services: Pick<ValidationServices, "codec" | "mysql">,
  table: string,
  counted: (entity: string) => Promise<number> | undefined = () => undefined,
): Promise<number> {
  const { codec } = services;
  const held = codec.entities.filter((entity) => codec.entity(entity).table === table);
  const exact = held.map((entity) => counted(entity));
  const others = held.filter((_, index) => exact[index] === undefined);
  const [rows, estimated] = await Promise.all([Promise.all(exact), innodbRowEstimates(services, others)]);
  let items = 0;
  for (const [index, entity] of held.entries()) {
    const entityCodec = codec.entity(entity);
    const perRow = 1 + uniqueRules(entityCodec).length + wordIndexes(entityCodec).length * MAX_WORDS;
    items += (rows[index] ?? estimated.get(entity) ?? 0) * perRow;
  }
  return items;
}

/**
 * InnoDB's estimate of each entity's rows (information_schema.TABLES), by entity; absent for a table not there. It
 * lags: MySQL 8 caches it for up to a day (information_schema_stats_expiry), and a table just loaded may say 0.
 */
async function innodbRowEstimates(
  services: Pick<ValidationServices, "codec" | "mysql">,
  entities: readonly string[],
): Promise<Map<string, number>> {
  const estimates = new Map<string, number>();
  if (entities.length === 0) return estimates;
  const tables = entities.map((entity) => mysqlStatements(services.codec, entity).table);
  const [rows] = await retryTransient(() =>
    services.mysql.query({
      sql: "SELECT table_name AS name, table_rows AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (?)",
      values: [tables],
    }),
  );
  // By name in lower case: with lower_case_table_names the server matches names whatever their case.
  const byTable = new Map(
    (rows as Array<{ name: string; n: number | string | null }>).map((row) => [row.name.toLowerCase(), row.n]),
  );
  for (const [index, entity] of entities.entries()) {
    const n = byTable.get((tables[index] as string).toLowerCase());
    if (n !== undefined && n !== null) estimates.set(entity, Number(n));
  }
  return estimates;
}

/**
 * Items per scan segment aimed at: about one page of a Scan. DynamoDB Local sorts a whole segment for every page it
 * returns, so a scan's cost grows with the square of its segment's size (measured on this machine kind with 1,000,000
 * items: 4 segments 284 s, 32 segments 42 s, 128 segments 15 s). On DynamoDB a segment more is one request more.
 */
export const ITEMS_PER_SEGMENT = 4_000;
/** DynamoDB's limit on TotalSegments. */
const MAX_SEGMENTS = 1_000_000;

/**
 * The scan's segments, read `parallel` at a time: enough that each holds about ITEMS_PER_SEGMENT of the table's
 * `estimate` items (at least `parallel`), all of them; with a sample R < 1, about R of them drawn at random out of
 * at least parallel / R (DynamoDB splits a table into segments by the hash of the partition key, so they are a
 * random fraction of about R of the items).
 */
export function scanSegments(
  parallel: number,
  sample: number,
  random: () => number = Math.random,
  estimate = 0,
): { total: number; chosen: number[] } {
  const bySize = Math.ceil(Math.max(0, estimate) / ITEMS_PER_SEGMENT);
  if (sample >= 1) {
    const total = Math.min(MAX_SEGMENTS, Math.max(parallel, bySize));
    return { total, chosen: Array.from({ length: total }, (_, i) => i) };
  }
  const total = Math.min(MAX_SEGMENTS, Math.max(Math.round(parallel / sample), bySize, parallel));
  const all = Array.from({ length: total }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  const count = Math.min(total, Math.max(1, Math.round(total * sample)));
  return { total, chosen: all.slice(0, count).sort((a, b) => a - b) };
}

function summarize(input: {
  at: string;
  started: number;
  who: string;
  contract: string;
  sample: number;
  full: boolean;
  entities: EntityReport[];
  unclaimed?: Unclaimed;
}): ValidationReport {
  const durationMs = Date.now() - input.started;
  const sum = (pick: (report: EntityReport) => number) => input.entities.reduce((total, e) => total + pick(e), 0);
  const totals = {
    rows: sum((e) => e.rows),
    items: sum((e) => e.items),
    markers: sum((e) => e.markers),
    matched: sum((e) => e.matched),
    missing: sum((e) => e.missing),
    extra: sum((e) => e.extra),
    mismatched: sum((e) => e.mismatched),
    unreadable: sum((e) => e.unreadable),
    unclaimed: input.unclaimed?.count ?? 0,
    differences: 0,
  };
  totals.differences = totals.missing + totals.extra + totals.mismatched + totals.unreadable + totals.unclaimed;
  return {
    id: reportId(input.at),
    at: input.at,
    who: input.who,
    contract: input.contract,
    sample: input.sample,
    full: input.full,
    entities: input.entities,
    ...(input.unclaimed === undefined ? {} : { unclaimed: input.unclaimed }),
    clean: totals.differences === 0,
    totals,
    itemsPerSecond: Math.round(((totals.rows + totals.items + totals.markers) * 1000) / Math.max(1, durationMs)),
    durationMs,
  };
}

function emptyReport(entity: string): EntityReport {
  return {
    entity,
    rows: 0,
    items: 0,
    markers: 0,
    matched: 0,
    missing: 0,
    extra: 0,
    mismatched: 0,
    unreadable: 0,
    settled: 0,
    staleCopies: 0,
    differences: [],
  };
}

/** Differences once each (by kind, key and marker). */
function distinct(differences: readonly Difference[]): Difference[] {
  const seen = new Map<string, Difference>();
  for (const difference of differences) {
    const id = differenceId(difference);
    if (!seen.has(id)) seen.set(id, difference);
  }
  return [...seen.values()];
}

/** Which difference it is: its kind, key and marker. */
function differenceId(difference: Difference): string {
  return JSON.stringify([difference.kind, difference.key, difference.marker ?? null]);
}

/** What a look saw of it: the values on both sides and why (a key being written shows other ones at the next look). */
function signature(difference: Difference): string {
  return JSON.stringify([difference.fields, difference.reason ?? null]);
}

/** The rows among the differences (a row with two differences counts once). */
function rowsDiffering(differences: readonly Difference[]): number {
  const rows = new Set<string>();
  for (const difference of differences) {
    if (difference.kind === "extra-item" || difference.kind === "orphan-marker") continue;
    rows.add(JSON.stringify(difference.key));
  }
  return rows.size;
}

function bigints(_name: string, value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  return value;
}
