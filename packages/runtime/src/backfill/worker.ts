/**
 * The backfill's run: refuses to start unless every live process writes both stores (phase 2 or later on every
 * heartbeat), opens a run in the ledger (or joins the open one), then claims segments until none is left: each
 * segment read in primary-key pages from its checkpoint, each page written by BackfillPage and checkpointed. The
 * worker that sees the last segment done finishes the run, which records the backfill status "finished" for the
 * 2 -> 3 guard rail.
 *
 * A MySQL or DynamoDB connection lost mid-run is tried again with backoff; when it stays lost, the worker gives its
 * segment back with the error and stops (BackfillInterrupted): the run stays open, and running the same command
 * again resumes from the last checkpoint. Rows the codec cannot map are recorded and counted; past `maxRejected`
 * the run fails.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Codec, EntityValue } from "../codec/index.ts";
import { PhaseStore } from "../control/phase-store.ts";
import { DynamoEntityStore } from "../dynamodb/index.ts";
import { tableExists } from "../dynamodb/table-probe.ts";
import type { MysqlExecutor } from "../mysql/store.ts";
import { MysqlEntityStore } from "../mysql/store.ts";
import { KeySync } from "../outbox/sync.ts";
import { type RowRead, SourceRows } from "../rows/index.ts";
import { retryTransient, TRANSIENT_ATTEMPTS } from "../transient.ts";
import { BulkWriter, type BulkWriterOptions } from "./bulk-writer.ts";
import { BackfillError, BackfillNotFinished, LeaseLost } from "./errors.ts";
import { BackfillLedger, defaultWorkerName } from "./ledger.ts";
import type { RunStop } from "./ledger-items.ts";
import { type BackfillHooks, BackfillPage, type PageOutcome } from "./page.ts";
import type { RunReport } from "./run-report.ts";
import { entityKey, planSegments } from "./segments.ts";
import type { WorkerShare } from "./worker-share.ts";

/** Rows read and written per page unless told otherwise. */
export const DEFAULT_PAGE_ROWS = 1000;
/** Pages of a segment written at once unless told otherwise. */
export const DEFAULT_PAGES_IN_FLIGHT = 3;
/** A segment's lease unless told otherwise: a worker silent this long loses its segment to another. */
export const DEFAULT_LEASE_MS = 30_000;
/** Tries of a MySQL read before the worker stops. */
const READ_ATTEMPTS = TRANSIENT_ATTEMPTS;

/** The backfill may not start now (the phase, the fleet), or was told something it cannot do. */
export class BackfillRefused extends BackfillError {
  override readonly name = "BackfillRefused";
}

/** The worker stopped on an error it could not get past; the run stays open and resumes from its checkpoints. */
export class BackfillInterrupted extends BackfillError {
  override readonly name = "BackfillInterrupted";
}

/** The run failed (too many rejected rows, the phase moved back to 1). */
export class BackfillFailed extends BackfillError {
  override readonly name = "BackfillFailed";
}

export interface BackfillServices {
  codec: Codec;
  /** A pool (or connection) on the source database. */
  mysql: MysqlExecutor;
  client: DynamoDBClient;
  tablePrefix: string;
}

export interface BackfillRunOptions {
  /** What the run records as its contract (the file, or the contract's name). */
  contract: string;
  /** The entities to backfill (default: every entity of the contract), in this order. */
  entities?: readonly string[];
  /** Who starts it (the audit's "who"). */
  who: string;
  /** This worker's name in leases (default host#pid#random). */
  worker?: string;
  /** Items per second at most (markers included) for this worker. */
  rate?: number;
  /** BatchWriteItem requests in flight (default 8). */
  concurrency?: number;
  pageRows?: number;
  /** Pages of a segment written at once (default 3). */
  pagesInFlight?: number;
  /**
   * Whether a page looks its items up before writing, to skip those there and equal (BackfillPage.write): "auto"
   * (default) while a claim's pages find them there (a re-run, a resumed segment), "always", or "never". Correctness
   * does not depend on it (docs/backfill.md); it saves rewriting what is there, or reading what is not.
   */
  check?: "auto" | "always" | "never";
  leaseMs?: number;
  rowsPerSegment?: number;
  /** This worker's share of the segments (--segment/--total-segments, or the job runner's variables). */
  share?: WorkerShare;
  /** The run fails once more rows than this were rejected (default: never). */
  maxRejected?: number;
  /** At most one checkpoint write per this many ms per worker (default 1,000). */
  checkpointIntervalMs?: number;
  /** How DynamoDB batches are tried again (BulkWriter's backoff and tries). */
  retry?: Pick<BulkWriterOptions, "baseMs" | "capMs" | "attempts">;
  /** Stop claiming (after the page under way) once aborted: the run stays open. */
  signal?: AbortSignal;
  /**
   * The open run of the same entities was stopped by an operator (BackfillLedger.stop): resume it and work on it. Without
   * this a worker refuses (BackfillRefused) instead of undoing the stop: a job runner restarting workers must not.
   */
  resume?: boolean;
  hooks?: BackfillHooks;
  /** Told once the worker has its run (created or joined, a stopped one resumed), before its first claim. */
  onRun?: (run: { runId: string; joined: boolean }) => void;
  /** Told after each page. */
  onPage?: (event: PageEvent) => void;
}

export interface PageEvent {
  runId: string;
  entity: string;
  segment: number;
  rows: number;
  written: number;
  skipped: number;
  rejected: number;
  resynced: number;
}

export interface BackfillResult {
  runId: string;
  /** It joined a run another worker had opened. */
  joined: boolean;
  /** The run as it stands when this worker stopped (finished, or running when other workers still have segments). */
  report: RunReport;
  /** Set when this worker ended because an operator stopped the run (it stays open; resume it to go on). */
  stopped?: RunStop;
  /** Rows this worker wrote, skipped, rejected and re-synced. */
  written: number;
  skipped: number;
  rejected: number;
  resynced: number;
}

/**
 * Why the backfill may not run now; undefined when it may: MySQL authoritative and every writer writing both stores,
 * i.e. phase 2 or 3 on the phase item and on every live heartbeat (and every silent one within its write lease). Below 2 a live write could reach MySQL only and be
 * missed by both the bulk copy and its re-sync; from 4 on DynamoDB is authoritative and a copy from MySQL would put
 * older values over its writes and bring back what it deleted.
 */
export async function backfillBlocked(client: DynamoDBClient, tablePrefix: string): Promise<string | undefined> {
  const phases = new PhaseStore(client, { tablePrefix });
  const state = await phases.get();
  if (state.phase < 2) {
    return `the phase is ${state.phase}: the backfill needs dual writes (phase 2 or 3), or a live write could reach MySQL only and be missed by both the bulk copy and its re-sync; move to phase 2 first (ferry phase set 2)`;
  }
  if (state.phase > 3) {
    return `the phase is ${state.phase}: DynamoDB is authoritative, and a copy from MySQL would put older values over its writes and bring back items it deleted; the backfill runs in phase 2 or 3 only (to check the stores now: ferry validate)`;
  }
  const fleet = await phases.fleet();
  // The silent ones too: one may still write under the phase it last read until its write lease runs out.
  const behind = [...fleet.instances, ...fleet.silent].filter(
    (instance) => instance.phaseSeen === undefined || instance.phaseSeen < 2 || instance.phaseSeen > 3,
  );
  if (behind.length > 0) {
    const names = behind.map((instance) => `${instance.app}@${instance.host} (phase ${instance.phaseSeen ?? "?"})`);
    return `${behind.length} running ${behind.length === 1 ? "process does" : "processes do"} not write both stores with MySQL authoritative: ${names.join(", ")}; wait until every process runs phase ${state.phase}`;
  }
  return undefined;
}

/** Checks a run's options before anything is written (BackfillRefused). */
export function checkRunOptions(
  codec: Codec,
  options: Pick<BackfillRunOptions, "entities" | "rate" | "maxRejected" | "pageRows" | "pagesInFlight" | "concurrency">,
): string[] {
  const entities = options.entities ?? codec.entities;
  for (const entity of entities) {
    if (!codec.entities.includes(entity)) {
      throw new BackfillRefused(`the contract has no entity '${entity}'`, {
        hint: `its entities: ${codec.entities.join(", ")}`,
      });
    }
  }
  if (entities.length === 0) throw new BackfillRefused("a backfill needs at least one entity");
  const positive = (value: number | undefined, what: string, min = 1) => {
    if (value !== undefined && (!Number.isFinite(value) || value < min || !Number.isInteger(value))) {
      throw new BackfillRefused(`${what} must be a whole number from ${min} up, got ${value}`);
    }
  };
  positive(options.rate, "--rate (items per second)");
  positive(options.maxRejected, "--max-rejected", 0);
  positive(options.pageRows, "rows per page");
  positive(options.pagesInFlight, "pages in flight");
  positive(options.concurrency, "requests in flight");
  return [...new Set(entities)];
}

/** Runs (or joins) a backfill and works on it until no segment of this worker's share is left. */
export async function runBackfill(services: BackfillServices, options: BackfillRunOptions): Promise<BackfillResult> {
  const { codec, client, tablePrefix } = services;
  const entities = checkRunOptions(codec, options);
  const blocked = await backfillBlocked(client, tablePrefix);
  if (blocked !== undefined) throw new BackfillRefused(`the backfill cannot start: ${blocked}`);
  await checkTables(services, entities);
  const ledger = new BackfillLedger(client, {
    tablePrefix,
    ...(options.checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs: options.checkpointIntervalMs }),
  });
  const rows = new SourceRows(services.mysql, codec);
  const mysqlStore = new MysqlEntityStore(services.mysql, codec);
  const dynamodb = new DynamoEntityStore(client, codec, { tablePrefix });
  const run = await ledger.createRun({
    contract: options.contract,
    who: options.who,
    entities,
    segments: async () => {
      const all = [];
      for (const entity of entities) {
        all.push(
          ...(await planSegments(services.mysql, codec, entity, {
            ...(options.rowsPerSegment === undefined ? {} : { rowsPerSegment: options.rowsPerSegment }),
          })),
        );
      }
      return all;
    },
    options: {
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      ...(options.maxRejected === undefined ? {} : { maxRejected: options.maxRejected }),
    },
  });
  const writer = new BulkWriter(client, {
    ...options.retry,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.rate === undefined ? {} : { rate: options.rate }),
  });
  const page = new BackfillPage(
    codec,
    client,
    rows,
    dynamodb,
    new KeySync(codec, mysqlStore, dynamodb),
    writer,
    {
      tablePrefix,
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    },
    mysqlStore,
  );
  const worker = options.worker ?? defaultWorkerName();
  const pageRows = options.pageRows ?? DEFAULT_PAGE_ROWS;
  const pagesInFlight = options.pagesInFlight ?? DEFAULT_PAGES_IN_FLIGHT;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const result = { written: 0, skipped: 0, rejected: 0, resynced: 0 };
  // A run after an earlier one (a re-run) may find its items there: its claims start with the check on.
  const rerun = await ledger.hasOtherRun(run.id);
  const record = await ledger.run(run.id);
  if (record.stopped !== undefined) {
    if (options.resume !== true) {
      throw new BackfillRefused(
        `backfill run ${run.id} was stopped by ${record.stopped.who} at ${record.stopped.at}; it stays open with its checkpoints`,
        { hint: "resume it from the console, or with ferry backfill run --resume" },
      );
    }
    await ledger.resume(run.id, options.who, record.stopped);
  }
  options.onRun?.({ runId: run.id, joined: run.joined });
  // The run's limit, as its first worker set it (a worker that joins keeps it).
  const recorded = record.options.maxRejected;
  const maxRejected = typeof recorded === "number" ? recorded : options.maxRejected;
  const overLimit = async (): Promise<string | undefined> => {
    if (maxRejected === undefined) return undefined;
    const rejected = (await ledger.progress(run.id)).rejected;
    return rejected > maxRejected ? `${rejected} rows rejected, over --max-rejected ${maxRejected}` : undefined;
  };
  const failRun = async (reason: string): Promise<never> => {
    await ledger.fail(run.id, reason);
    throw new BackfillFailed(`backfill run ${run.id} failed: ${reason}`, {
      hint: "see what happened with ferry backfill runs --rejected",
    });
  };

  /** Set once an operator's stop is seen: at a claim, or by the lease keeper while a segment is worked on. */
  let stopped: RunStop | undefined;
  const halted = () => options.signal?.aborted === true || stopped !== undefined;
  for (;;) {
    if (halted()) break;
    const claimed = await ledger.claim(run.id, worker, { leaseMs, ...(options.share ? { pin: options.share } : {}) });
    if (claimed.kind === "done") break;
    if (claimed.kind === "stopped") {
      stopped = { who: claimed.who, at: claimed.at };
      break;
    }
    if (claimed.kind === "leased") {
      await sleep(Math.max(100, Math.min(claimed.retryAt - Date.now() + 50, 5_000)), options.signal);
      continue;
    }
    const claim = claimed.claim;
    const blockedNow = await backfillBlocked(client, tablePrefix);
    if (blockedNow !== undefined) {
      await ledger.release(claim);
      await failRun(`stopped: ${blockedNow}`);
    }
    // The lease is kept while a page runs (a checkpoint between pages extends it too): a slow page must not lose its
    // segment to another worker, which would start it again from the same checkpoint.
    let lost = false;
    const keeper = setInterval(
      () => {
        ledger.flush(claim).catch((error: unknown) => {
          if (error instanceof LeaseLost) lost = true;
        });
        // An operator's stop reaches a worker in the middle of a segment here (claims see it too).
        ledger.run(run.id).then(
          (now) => {
            if (now.stopped !== undefined) stopped ??= now.stopped;
          },
          () => {}, // read again on the next tick
        );
      },
      Math.max(250, Math.floor(leaseMs / 3)),
    );
    let after: EntityValue | undefined = claim.checkpoint;
    // The check before writing (BackfillPage.write) is made while the segment's items are found there already: a
    // claim starts with it on in a re-run or on a segment claimed before, and a checked page that finds fewer than
    // half of its rows' items there turns it off for the rest of the claim. Some entities are always checked
    // (BackfillPage.needsCheck: docs/backfill.md, step 2).
    const alwaysCheck =
      options.check === "always" || (options.check !== "never" && page.needsCheck(claim.segment.entity));
    // A segment claimed before (a checkpoint, a take-over, an error) may have pages written after its checkpoint.
    const claimedBefore =
      claim.checkpoint !== undefined || claim.takenOverFrom !== undefined || claim.counts.errors > 0;
    let check = alwaysCheck || (options.check !== "never" && (rerun || claimedBefore));
    let stop: "limit" | "aborted" | undefined;
    // Pages are written `pagesInFlight` at a time (each is safe on its own: docs/backfill.md) and checkpointed in key
    // order, each once it and every page before it are done.
    const inFlight: Array<{ reads: RowRead[]; last: RowRead; outcome: Promise<PageOutcome> }> = [];
    let readAll = false;
    try {
      for (;;) {
        if (!readAll && stop === undefined && inFlight.length < pagesInFlight) {
          const reads = await retried(() => rows.page(claim.segment, { after, limit: pageRows }), "MySQL");
          const last = reads.at(-1);
          if (reads.length < pageRows) readAll = true;
          if (last !== undefined) {
            after = last.key;
            // A page is idempotent (it writes MySQL's values again), so one that met a connection error is done again whole.
            const checkThis = check;
            const outcome = retried(() => page.write(claim.segment.entity, reads, checkThis), "the page");
            outcome.catch(() => {}); // awaited in order below
            inFlight.push({ reads, last, outcome });
            continue;
          }
        }
        const done = inFlight.shift();
        if (done === undefined) {
          if (stop !== undefined) {
            await ledger.flush(claim);
            await ledger.release(claim);
          } else await ledger.complete(claim);
          break;
        }
        const outcome = await done.outcome;
        if (!alwaysCheck && outcome.checked && outcome.looked > 0 && outcome.found * 2 < outcome.looked) check = false;
        if (lost) throw new LeaseLost(`the lease of ${claim.segment.entity} segment #${claim.segment.index} ran out`);
        for (const rejection of outcome.rejected) {
          await ledger.recordRejected(run.id, claim.segment.entity, rejection.key, rejection.reason);
        }
        const progress = {
          after: done.last.key,
          written: outcome.written,
          skipped: outcome.skipped,
          rejected: outcome.rejected.length,
        };
        result.written += outcome.written;
        result.skipped += outcome.skipped;
        result.rejected += outcome.rejected.length;
        result.resynced += outcome.resynced;
        options.onPage?.({
          runId: run.id,
          entity: claim.segment.entity,
          segment: claim.segment.index,
          rows: done.reads.length,
          written: outcome.written,
          skipped: outcome.skipped,
          rejected: outcome.rejected.length,
          resynced: outcome.resynced,
        });
        if (readAll && inFlight.length === 0) {
          await ledger.complete(claim, progress);
          break;
        }
        await ledger.checkpoint(claim, progress);
        if (outcome.rejected.length > 0 && maxRejected !== undefined) {
          await ledger.flush(claim);
          if ((await overLimit()) !== undefined) stop = "limit";
        }
        if (stop === undefined && halted()) stop = "aborted";
      }
    } catch (error) {
      // Pages still being written finish before the segment is given back (so no other worker writes them at once).
      await Promise.allSettled(inFlight.map((entry) => entry.outcome));
      if (error instanceof LeaseLost) continue;
      await ledger.release(claim, { error }).catch(() => false);
      throw new BackfillInterrupted(
        `the backfill stopped on ${claim.segment.entity} segment #${claim.segment.index}: ${reasonOf(error)}`,
        { cause: error, hint: "the run stays open: run the same command again to resume from the last checkpoint" },
      );
    } finally {
      clearInterval(keeper);
    }
    if (stop === "limit") {
      const reason = await overLimit();
      if (reason !== undefined) await failRun(reason);
    }
  }
  let report: RunReport;
  if (halted()) report = await ledger.progress(run.id);
  else {
    const reason = await overLimit();
    if (reason !== undefined) await failRun(reason);
    try {
      report = await ledger.finish(run.id);
    } catch (error) {
      if (!(error instanceof BackfillNotFinished)) throw error;
      report = await ledger.progress(run.id);
    }
  }
  return { runId: run.id, joined: run.joined, report, ...(stopped === undefined ? {} : { stopped }), ...result };
}

/** Every entity's table is there on both sides (BackfillRefused naming the first one missing). */
export async function checkTables(services: BackfillServices, entities: readonly string[]): Promise<void> {
  const dynamodb = new DynamoEntityStore(services.client, services.codec, { tablePrefix: services.tablePrefix });
  const probed = new Set<string>();
  for (const entity of entities) {
    const { table } = entityKey(services.codec, entity);
    try {
      await services.mysql.query({ sql: `SELECT 1 FROM ${table} LIMIT 0` });
    } catch (error) {
      if ((error as { errno?: unknown }).errno !== 1146) throw error;
      throw new BackfillRefused(`${entity}: MySQL has no table ${table}`, {
        hint: "is this the right database (--database, MYSQL_URL)?",
      });
    }
    // Each table once (one may hold every entity), without DescribeTable (dynamodb/table-probe.ts).
    const name = dynamodb.tableName(entity);
    if (probed.has(name)) continue;
    if (!(await tableExists(services.client, name, services.codec.entity(entity).keyNames))) {
      throw new BackfillRefused(`${entity}: DynamoDB has no table ${name}`, {
        hint: "create the contract's tables first: ferry tables apply --contract <file>",
      });
    }
    probed.add(name);
  }
}

/** Work tried again after transient errors (retryTransient); the last try's error says how many there were. */
async function retried<T>(work: () => Promise<T>, what: string): Promise<T> {
  let tries = 1;
  try {
    return await retryTransient(work, { attempts: READ_ATTEMPTS, onRetry: (_, attempt) => (tries = attempt + 1) });
  } catch (error) {
    if (tries === 1) throw error;
    throw new BackfillError(`${what} failed after ${tries} tries: ${reasonOf(error)}`, { cause: error });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
