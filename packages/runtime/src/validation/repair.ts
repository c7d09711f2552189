/**
 * repair(): makes every difference a validation found go away, with the live path's own conditional writes, never a
 * blind overwrite (docs/validation.md, "Repair"):
 *
 * - an item missing, different or extra: KeySync.sync from the authoritative store (MySQL in phases 1-3, so the
 *   target is DynamoDB; DynamoDB in phase 4, so the target is MySQL). Its writes are conditional on the item's version,
 *   and it reads the source again after writing, so a live write racing the repair wins;
 * - a marker missing: put back, on condition that it is absent (or the item's) and the item is still at the version
 *   read (restoreMarkers);
 * - an orphan marker: deleted in a transaction that checks its owner is as read and that it still names that owner
 *   (freeOrphanMarker).
 *
 * Each key is repaired as a write of the fleet: under a write ticket of a phase source (PhaseSource.beginWrite, a
 * CachedPhase with its heartbeat), so a move of the authoritative store waits until the key's repair has finished and
 * holds the next one until it is committed; the target store is chosen by the phase the ticket was taken under. When
 * the phase leaves the phases repair works in (phase 5), or this process may not write, the repair stops and reports
 * the keys it did not attempt.
 *
 * What it did is added to the stored report; then exactly the repaired keys are validated again.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import type { EntityCodec, Item } from "../codec/index.ts";
import { CachedPhase, type CachedPhaseOptions } from "../control/cached-phase.ts";
import { PhaseStore } from "../control/phase-store.ts";
import { entityItems } from "../dynamodb/entity-items.ts";
import { VERSION_ATTRIBUTE } from "../dynamodb/expression.ts";
import { DynamoEntityStore } from "../dynamodb/index.ts";
import { freeOrphanMarker, restoreMarkers } from "../dynamodb/orphan-markers.ts";
import { MysqlEntityStore } from "../mysql/store.ts";
import { decodeKey } from "../outbox/entry.ts";
import { KeySync } from "../outbox/sync.ts";
import type { Phase, PhaseSource, WriteTicket } from "../phases.ts";
import { retryTransient } from "../transient.ts";
import { keyAttributeNames, reasonOf } from "./compare.ts";
import { type Difference, type RepairSummary, storeValidationReport, type ValidationReport } from "./report.ts";
import {
  type ValidateOptions,
  ValidationError,
  type ValidationOutcome,
  type ValidationServices,
  validate,
  validateKeys,
} from "./validate.ts";

/** Keys repaired at once. */
const REPAIRS_IN_FLIGHT = 8;
/** Keys listed in the stored report's repair (every one is counted). */
const CHANGES_KEPT = 200;

export interface RepairOptions {
  who?: string;
  /** Store the report with what the repair did (default true). */
  record?: boolean;
  /** Told after each key. */
  onKey?: (done: number, total: number) => void;
  /**
   * Where each key's write ticket comes from: this process's place in the fleet (a started CachedPhase, as FleetMember
   * and the CLI hold). Default: the repair joins the fleet itself while it runs (a CachedPhase over `services.client`,
   * app "ferry-repair", with `fleet`'s options). A source without beginWrite (FixedPhase) is read, never waited on.
   */
  phase?: PhaseSource;
  /** Options of the CachedPhase the repair starts when no `phase` is given. */
  fleet?: Partial<CachedPhaseOptions>;
}

export interface RepairOutcome {
  /** The validation's report with what the repair did (`repair`). */
  report: ValidationReport;
  repair: RepairSummary;
  /** Exactly the repaired keys, validated again. */
  after: ValidationOutcome;
  /** Differences it could not repair, and why (those it did not attempt, after it stopped, too). */
  failures: Array<{ difference: Difference; reason: string }>;
}

/** The phases a repair writes in, and the store it writes: the non-authoritative one (none in phase 5). */
function targetOf(phase: Phase): "dynamodb" | "mysql" | undefined {
  if (phase === 5) return undefined;
  return phase === 4 ? "mysql" : "dynamodb";
}

const PHASE_5 = "the phase is 5: MySQL is no longer written, so there is no authoritative copy to repair from";

/** The store a repair writes in `phase` (the non-authoritative one); ValidationError in phase 5, where there is none. */
export function repairTarget(phase: Phase): "dynamodb" | "mysql" {
  const target = targetOf(phase);
  if (target === undefined) throw new ValidationError(PHASE_5);
  return target;
}

/**
 * Repairs what `input` found (a validation's outcome), or validates first with `input` as its options. ValidationError
 * in phase 5 (MySQL is no longer written, so nothing says which side is right).
 */
export async function repair(
  services: ValidationServices,
  input: ValidationOutcome | ValidateOptions,
  options: RepairOptions = {},
): Promise<RepairOutcome> {
  const own =
    options.phase === undefined
      ? new CachedPhase(new PhaseStore(services.client, { tablePrefix: services.tablePrefix }), {
          app: "ferry-repair",
          ...options.fleet,
        })
      : undefined;
  await own?.start();
  try {
    return await repairAsMember(services, input, options, (own ?? options.phase) as PhaseSource);
  } finally {
    await own?.stop();
  }
}

async function repairAsMember(
  services: ValidationServices,
  input: ValidationOutcome | ValidateOptions,
  options: RepairOptions,
  source: PhaseSource,
): Promise<RepairOutcome> {
  const phase = source.phase();
  const target = repairTarget(phase);
  const outcome = "report" in input ? input : await validate(services, input);
  const { codec } = services;
  const dynamodb = new DynamoEntityStore(services.client, codec, { tablePrefix: services.tablePrefix });
  const sync = new KeySync(codec, new MysqlEntityStore(services.mysql, codec), dynamodb);
  const summary: RepairSummary = {
    at: new Date().toISOString(),
    who: options.who ?? outcome.report.who,
    phase,
    target,
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    markersRestored: 0,
    markersFreed: 0,
    failed: 0,
    skipped: 0,
    changes: [],
    left: 0,
  };
  const failures: RepairOutcome["failures"] = [];
  const changed = (difference: Difference, done: string) => {
    if (summary.changes.length >= CHANGES_KEPT) return;
    summary.changes.push({
      entity: difference.entity,
      kind: difference.kind,
      key: difference.key,
      ...(difference.marker === undefined ? {} : { marker: difference.marker }),
      done,
    });
  };

  const repairOne = async (difference: Difference, target: "dynamodb" | "mysql"): Promise<void> => {
    const entityCodec = codec.entity(difference.entity);
    const table = dynamodb.tableName(difference.entity);
    if (difference.kind === "unreadable") throw new Error(`the codec cannot read it (${difference.reason ?? ""})`);
    if (difference.kind === "orphan-marker") {
      if (difference.marker === undefined) throw new Error("the report does not name the marker");
      const key = markerKey(entityCodec.keyNames, difference.marker);
      for (let attempt = 1; attempt <= 3; attempt++) {
        const freed = await freeOrphanMarker(services.client, table, entityCodec, key);
        if (freed === "changed") continue;
        if (freed === "freed") {
          summary.markersFreed++;
          changed(difference, "marker deleted");
        }
        return;
      }
      throw new Error("the marker or its owner kept changing");
    }
    const identity = decodeKey(JSON.stringify(difference.key));
    const done = await sync.sync(target, difference.entity, identity);
    summary[done]++;
    if (done !== "unchanged") changed(difference, `${done} on ${target}`);
    if (difference.kind === "mismatched") {
      // Index keys are rendered from the item's own attributes: a wrong one is put right on DynamoDB (KeySync compares
      // values, not keys), on condition that the item is still at the version read.
      const fixed = await restoreIndexKeys(services.client, table, entityCodec, entityCodec.key(identity));
      if (fixed.length > 0) {
        summary.indexKeysRestored = (summary.indexKeysRestored ?? 0) + 1;
        changed(difference, `index key(s) ${fixed.join(", ")} rendered again on dynamodb`);
      }
    }
    if (
      difference.kind === "missing-marker" ||
      difference.kind === "missing-item" ||
      difference.kind === "mismatched"
    ) {
      const restored = await restoreMarkers(services.client, table, entityCodec, entityCodec.key(identity));
      summary.markersRestored += restored.restored;
      if (restored.restored > 0) changed(difference, `${restored.restored} marker(s) put back`);
      if (restored.held.length > 0) {
        throw new Error(`unique rule(s) ${restored.held.join(", ")}: another item holds the value on DynamoDB too`);
      }
    }
  };

  // Each key under a write ticket: the phase it is repaired in cannot change while it is (a move of the authoritative
  // store waits for it), and the target is that phase's. Once the phase leaves 1-4, or this process may not write,
  // nothing more is attempted.
  const underTicket = async (difference: Difference): Promise<"done" | "stopped"> => {
    if (summary.stopped !== undefined) return "stopped";
    let ticket: WriteTicket;
    try {
      ticket = source.beginWrite ? await source.beginWrite() : { phase: source.phase(), done: () => {} };
    } catch (error) {
      summary.stopped ??= `this process may not write now: ${reasonOf(error)}`;
      return "stopped";
    }
    try {
      const now = targetOf(ticket.phase);
      if (now === undefined) {
        summary.stopped ??= `the phase moved to ${ticket.phase} during the repair: ${PHASE_5}`;
        return "stopped";
      }
      if (ticket.phase !== phase) summary.phaseMoved = ticket.phase;
      await repairOne(difference, now);
      return "done";
    } finally {
      ticket.done();
    }
  };
  const notAttempted = (difference: Difference) => {
    summary.skipped++;
    failures.push({ difference, reason: `not attempted: the repair stopped (${summary.stopped ?? ""})` });
  };

  const limit = pLimit(REPAIRS_IN_FLIGHT);
  let done = 0;
  const retry: Difference[] = [];
  await Promise.all(
    outcome.differences.map((difference) =>
      limit(async () => {
        try {
          if ((await underTicket(difference)) === "stopped") notAttempted(difference);
          options.onKey?.(++done, outcome.differences.length);
        } catch {
          retry.push(difference);
        }
      }),
    ),
  );
  // Once more, one at a time: a key can wait on another repaired beside it (a value that moves between two items).
  for (const difference of retry) {
    try {
      if ((await underTicket(difference)) === "stopped") notAttempted(difference);
    } catch (error) {
      summary.failed++;
      failures.push({ difference, reason: reasonOf(error) });
    }
    options.onKey?.(++done, outcome.differences.length);
  }

  const after = await validateKeys(
    services,
    outcome.differences.map((difference) => ({
      entity: difference.entity,
      key: difference.key,
      ...(difference.marker === undefined ? {} : { marker: difference.marker }),
    })),
    { who: summary.who, contract: outcome.report.contract },
  );
  summary.left = after.report.totals.differences;
  const report: ValidationReport = { ...outcome.report, repair: summary };
  if (options.record !== false) {
    await retryTransient(() => storeValidationReport(services.client, services.tablePrefix, report));
  }
  return { report, repair: summary, after, failures };
}

/**
 * Renders an item's index key attributes again from its own attributes and writes those that differ (SET, or REMOVE
 * for a sparse index's key the item should not have), on condition that the item is at the version read; returns the
 * attributes written ([] when none differ or the item is not there).
 */
async function restoreIndexKeys(
  client: DynamoDBClient,
  table: string,
  codec: EntityCodec,
  key: Item,
): Promise<string[]> {
  const primary = new Set([codec.keyNames.partition, codec.keyNames.sort]);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const read = await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    const item = read.Item;
    if (item === undefined || item[VERSION_ATTRIBUTE]?.N === undefined) return [];
    const expected = entityItems(codec, codec.fromItem(item)).item;
    const names: Record<string, string> = { "#v": VERSION_ATTRIBUTE };
    const values: Record<string, AttributeValue> = { ":v": item[VERSION_ATTRIBUTE], ":one": { N: "1" } };
    const sets: string[] = ["#v = #v + :one"];
    const removes: string[] = [];
    const fixed: string[] = [];
    for (const [index, name] of keyAttributeNames(codec).entries()) {
      if (primary.has(name)) continue;
      if (JSON.stringify(expected[name] ?? null) === JSON.stringify(item[name] ?? null)) continue;
      fixed.push(name);
      names[`#k${index}`] = name;
      const want = expected[name];
      if (want === undefined) removes.push(`#k${index}`);
      else {
        values[`:k${index}`] = want;
        sets.push(`#k${index} = :k${index}`);
      }
    }
    if (fixed.length === 0) return [];
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "#v = :v",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return fixed;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  throw new Error("its item kept changing while its index keys were put right");
}

function markerKey(names: { partition: string; sort?: string }, id: string) {
  return {
    [names.partition]: { S: id },
    ...(names.sort === undefined ? {} : { [names.sort]: { S: id } }),
  };
}
