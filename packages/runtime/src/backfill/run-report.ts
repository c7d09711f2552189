/** What `ferry backfill runs` and `ferry backfill status` show of a run: who, when, state, and its counts per entity. */
import type { EntityTotals, RunRecord } from "./ledger-items.ts";

/** One entity's part of a run. */
export interface EntityProgress extends EntityTotals {
  /** Rows written per second of the run so far (to its end, once it has ended). */
  itemsPerSecond: number;
}

/** A run (as its item records it) and its counts. */
export interface RunReport extends Omit<RunRecord, "segments" | "totals"> {
  /** Per entity, in the run's entity order. */
  perEntity: EntityProgress[];
  /** The sums over its entities. */
  segments: number;
  segmentsDone: number;
  segmentsLeased: number;
  rowsEstimated: number;
  written: number;
  skipped: number;
  rejected: number;
  errors: number;
  itemsPerSecond: number;
}

/**
 * The report of `run` with its per-entity counts. Rates are rows written over the run's time (from its start to its
 * end, or to `now` while it runs), 0 before any time has passed.
 */
export function runReport(run: RunRecord, totals: readonly EntityTotals[], now: number): RunReport {
  const end = run.finishedAt === undefined ? now : Date.parse(run.finishedAt);
  const seconds = (end - Date.parse(run.startedAt)) / 1000;
  const rate = (written: number) => (seconds > 0 ? written / seconds : 0);
  const perEntity = totals.map((entity) => ({ ...entity, itemsPerSecond: rate(entity.written) }));
  const sum = (field: keyof Omit<EntityTotals, "entity">) => totals.reduce((total, entity) => total + entity[field], 0);
  const written = sum("written");
  const report: RunReport = {
    id: run.id,
    contract: run.contract,
    entities: [...run.entities],
    who: run.who,
    state: run.state,
    startedAt: run.startedAt,
    options: run.options,
    perEntity,
    segments: sum("segments"),
    segmentsDone: sum("segmentsDone"),
    segmentsLeased: sum("segmentsLeased"),
    rowsEstimated: sum("rowsEstimated"),
    written,
    skipped: sum("skipped"),
    rejected: sum("rejected"),
    errors: sum("errors"),
    itemsPerSecond: rate(written),
  };
  if (run.finishedAt !== undefined) report.finishedAt = run.finishedAt;
  if (run.failure !== undefined) report.failure = run.failure;
  if (run.dualWriteSince !== undefined) report.dualWriteSince = run.dualWriteSince;
  if (run.stopped !== undefined && run.state === "running") report.stopped = { ...run.stopped };
  return report;
}
