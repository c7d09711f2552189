/**
 * ShadowReader: phase 3's shadow reads (docs/architecture.md, "Reads and shadow reads"). The served read's result
 * goes back to the caller as soon as it arrives; a sampled share of reads also reads the other store,
 * concurrently and within a time budget, and compares the two results in the background after the codec's
 * normalisation. A difference is a mismatch, recorded with a field-level diff in a MismatchSink. Nothing about the
 * shadow read ever delays, fails or changes what the caller gets: its errors and timeouts are counted, not thrown.
 *
 * Counted in the metrics registry, per entity: `ferry_shadow_comparisons_total`, `ferry_shadow_mismatches_total`,
 * `ferry_shadow_errors_total` (the shadow read failed, or its result could not be compared),
 * `ferry_shadow_timeouts_total` (no result within the budget), `ferry_shadow_skipped_total{reason="in-flight"}`
 * (sampled but not started, too many shadow reads outstanding). Comparisons, mismatches, errors and timeouts are also
 * added to the control table's shadow counters (addShadowCounts) every `flushIntervalMs`, on flush() and on stop(),
 * for the phase store's 3 -> 4 precondition and the console, and to that minute's counts (addShadowMinute) for the
 * console's chart.
 *
 * A comparison is one read: a get, or one page of a listing (whose items are matched by the codec's identity; an
 * item on one side only is a difference too). A mismatch is a read whose results differ; each differing item is
 * recorded on its own.
 */
import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Codec, EntityCodec } from "../codec/index.ts";
import { addShadowCounts, addShadowMinute } from "../control/shadow-counts.ts";
import type { Counter, Metrics } from "../metrics/index.ts";
import type { StoreName } from "../phases.ts";
import { currentCorrelationId, requestAnswered } from "./correlation.ts";
import {
  diffValues,
  identityOf,
  type Mismatch,
  type MismatchField,
  type MismatchSink,
  normalizeKey,
} from "./mismatch.ts";

/** How long a shadow read may take unless told otherwise, in milliseconds. */
export const DEFAULT_SHADOW_BUDGET_MS = 100;

/** How often the comparison counters go to the control table unless told otherwise, in milliseconds. */
export const DEFAULT_COUNTS_FLUSH_MS = 5000;

/** How many shadow reads may be outstanding (timed out ones that have not settled included) before sampling pauses. */
export const DEFAULT_MAX_IN_FLIGHT = 1000;
/** A recheck's budget, as a multiple of the shadow read's (ShadowReader.readAgain). */
const RECHECK_BUDGET_FACTOR = 10;
/** How long after a difference the items are read again (ShadowReaderOptions.recheckMs). */
export const DEFAULT_RECHECK_MS = 250;
/**
 * The rechecks of a difference, each this many times `recheckMs` after the one before while the reads still differ
 * (250 ms, 1 s and 4 s by default: 5.25 s in all). A write's copy to the other store takes its own time on a loaded
 * machine; a divergence outlasts all of them.
 */
const RECHECK_DELAY_FACTORS = [1, 4, 16];

/** The reason a shadow read's AbortSignal is aborted with when its budget runs out. */
export class ShadowBudgetExceeded extends Error {
  override readonly name = "ShadowBudgetExceeded";
  constructor(readonly budgetMs: number) {
    super(`the shadow read took longer than its budget of ${budgetMs} ms`);
  }
}

/** What went wrong, for onError (logging). */
export interface ShadowErrorContext {
  /** `shadow`: the shadow read failed; `compare`: its result could not be compared; `counts`: adding to the control table failed; `sink`: the sink threw. */
  stage: "shadow" | "compare" | "counts" | "sink";
  entity?: string;
}

export interface ShadowReaderOptions {
  codec: Codec;
  metrics: Metrics;
  /** The share of reads that are shadowed, 0..1; read on every call, so a change (e.g. of the phase settings) applies at once. */
  sampleRate: () => number;
  /** How long a shadow read may take before it is abandoned and counted as a timeout (default 100 ms). */
  budgetMs?: number;
  sink: MismatchSink;
  /** For sampling; default Math.random. */
  random?: () => number;
  /** Where the comparison counters are added (the phase store's control table); without it they are only metrics. */
  control?: { client: DynamoDBClient; tablePrefix: string };
  /** Milliseconds between additions to the control table's counters (default 5000). */
  flushIntervalMs?: number;
  /** Shadow reads outstanding at most; beyond it reads are not shadowed (counted as skipped). Default 1000. */
  maxInFlight?: number;
  /** Told about every failure (for logging); it must not throw. */
  onError?: (error: unknown, context: ShadowErrorContext) => void;
  /**
   * How long after a difference a read that can be rechecked (`recheck`) reads the differing items again (default
   * 250 ms): long enough for a write that crossed the two reads to have reached both stores.
   */
  recheckMs?: number;
}

interface ShadowInput<R> {
  entity: string;
  /** The key (or the listing's values) the read was made with. */
  key: object;
  /** The authoritative store's read, already started. */
  served: Promise<R>;
  /**
   * Starts the other store's read. The signal is aborted when the budget runs out (pass it on to the SDK call where
   * possible, so abandoned reads stop too).
   */
  shadow: (signal: AbortSignal) => Promise<R>;
  /**
   * When given, the shadow read starts once this settles (e.g. after the served read has answered), and its budget
   * runs from then: the budget is the shadow read's own time, whatever the served read took.
   */
  startAfter?: Promise<unknown>;
  /** Default: the current one (withCorrelationId), else a random UUID. */
  correlationId?: string;
  /** The store that serves the read (default "mysql": phase 3 serves from MySQL); the shadow reads the other. */
  servedBy?: StoreName;
  /**
   * Makes the same read again on both stores: [the served store's, the other's] (the signal is aborted when the budget
   * runs out). A write that crossed the two reads (it reached a store between the served read and the shadow read)
   * makes them differ for a moment only: given this, a difference counts as a mismatch only when the reads made again
   * `recheckMs` later, and twice more after 4 and 16 times that, all still differ (the mismatch is then what differs in
   * the last), and as settled otherwise
   * (`ferry_shadow_settled_total`, a comparison without a mismatch). A recheck that fails or runs out of its budget
   * (ten times the shadow read's, at least 1 s) is counted as an error or a timeout, and the first difference stands
   * as a mismatch. Without it, every difference is a mismatch.
   */
  recheck?: (signal: AbortSignal) => Promise<[R, R]>;
  /**
   * Whether the comparison still means what it did when the read began, asked once it is made (the router: the
   * process still routes by the phase it read under). False: a move of the authoritative store came between the reads
   * (a write under the new phase reaches DynamoDB first, its copy to MySQL may wait in the outbox), and the comparison
   * is dropped, counted neither as a comparison nor as a mismatch.
   */
  stillShadowing?: () => boolean;
}

/** A read by key: the value or undefined (null) when there is none. */
export type ShadowReadInput<T> = ShadowInput<T>;

/** One page of a listing. */
export type ShadowPageInput<P extends { readonly items: readonly object[] }> = ShadowInput<P>;

type Outcome<R> = { kind: "value"; value: R } | { kind: "error"; error: unknown } | { kind: "timeout" };

type EntityLabel = "entity";

export class ShadowReader {
  readonly budgetMs: number;
  /** The reader's counters (also in the metrics registry). */
  readonly counters: {
    readonly comparisons: Counter<EntityLabel>;
    readonly mismatches: Counter<EntityLabel>;
    readonly errors: Counter<EntityLabel>;
    readonly timeouts: Counter<EntityLabel>;
    readonly skipped: Counter<EntityLabel | "reason">;
    readonly settled: Counter<EntityLabel>;
    readonly countFlushErrors: Counter;
  };
  private readonly codec: Codec;
  private readonly sink: MismatchSink;
  private readonly sampleRate: () => number;
  private readonly random: () => number;
  private readonly control: ShadowReaderOptions["control"];
  private readonly flushIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly recheckMs: number;
  private readonly onError: ShadowReaderOptions["onError"];
  /** Comparisons in the background (each bounded by the budget and the served read). */
  private readonly tasks = new Set<Promise<void>>();
  /** Shadow reads started and not settled (abandoned ones included). */
  private inFlight = 0;
  /** Counted and not yet added to the control table. */
  private unflushed = { comparisons: 0, mismatches: 0, errors: 0, timeouts: 0 };
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: ShadowReaderOptions) {
    const budgetMs = options.budgetMs ?? DEFAULT_SHADOW_BUDGET_MS;
    if (!Number.isFinite(budgetMs) || budgetMs <= 0) {
      throw new RangeError(`a shadow budget is a positive number of milliseconds, got ${budgetMs}`);
    }
    const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_COUNTS_FLUSH_MS;
    if (!Number.isFinite(flushIntervalMs) || flushIntervalMs <= 0) {
      throw new RangeError(`flushIntervalMs is a positive number of milliseconds, got ${flushIntervalMs}`);
    }
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`maxInFlight is a whole number of 1 or more, got ${maxInFlight}`);
    }
    const recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    if (!Number.isFinite(recheckMs) || recheckMs < 0) {
      throw new RangeError(`recheckMs is a number of milliseconds, 0 or more, got ${recheckMs}`);
    }
    this.recheckMs = recheckMs;
    this.budgetMs = budgetMs;
    this.flushIntervalMs = flushIntervalMs;
    this.maxInFlight = maxInFlight;
    this.codec = options.codec;
    this.sink = options.sink;
    this.sampleRate = options.sampleRate;
    this.random = options.random ?? Math.random;
    this.control = options.control;
    this.onError = options.onError;
    const metrics = options.metrics;
    const perEntity = { labels: ["entity"] as const };
    this.counters = {
      comparisons: metrics.counter({
        name: "ferry_shadow_comparisons_total",
        help: "Shadow reads compared with the served read (one per get or listing page).",
        ...perEntity,
      }),
      mismatches: metrics.counter({
        name: "ferry_shadow_mismatches_total",
        help: "Shadow reads whose result differed from the served one after normalisation.",
        ...perEntity,
      }),
      errors: metrics.counter({
        name: "ferry_shadow_errors_total",
        help: "Shadow reads that failed, or whose result could not be compared.",
        ...perEntity,
      }),
      timeouts: metrics.counter({
        name: "ferry_shadow_timeouts_total",
        help: "Shadow reads abandoned because they took longer than the budget.",
        ...perEntity,
      }),
      settled: metrics.counter({
        name: "ferry_shadow_settled_total",
        help: "Shadow comparisons that differed and agreed when read again (a write crossed the two reads): not mismatches.",
        labels: ["entity"],
      }),
      skipped: metrics.counter({
        name: "ferry_shadow_skipped_total",
        help: "Sampled reads not shadowed, by reason (in-flight: too many shadow reads outstanding).",
        labels: ["entity", "reason"],
      }),
      countFlushErrors: metrics.counter({
        name: "ferry_shadow_count_flush_errors_total",
        help: "Failed additions of the shadow comparison counts to the control table (they are retried).",
      }),
    };
  }

  /**
   * A read by key: returns `served` itself (its value or its error, unchanged and never delayed) and, when sampled,
   * starts `shadow` and compares the two values in the background. Never throws because of the shadow.
   */
  read<T>(input: ShadowReadInput<T>): Promise<T> {
    const started = this.startShadow(input);
    if (started) {
      this.inBackground(input.entity, async () => {
        const [served, outcome] = await Promise.all([settled(input.served), started.outcome]);
        if (!this.counted(input.entity, outcome) || served.kind !== "value" || outcome.kind !== "value") return;
        const codec = this.codec.entity<object>(input.entity);
        const differ = (left: T, right: T) =>
          diffValues(codec, left as object | undefined, right as object | undefined);
        const first = differ(served.value, outcome.value);
        const again =
          first.length > 0 && input.recheck
            ? await this.readUntilAgreed(input, ([left, right]) => differ(left, right).length > 0)
            : undefined;
        // A recheck that failed or ran out of time is counted as such, and the last difference read stands (the guard
        // rail must not lose a divergence because a read of it was slow).
        if (again !== undefined) this.counted(input.entity, again.outcome);
        const fields = again?.last !== undefined ? differ(again.last[0], again.last[1]) : first;
        if (input.stillShadowing && !input.stillShadowing()) return;
        const mismatches =
          fields.length === 0
            ? []
            : [this.mismatch(input, started.correlationId, normalizeKey(codec, input.key), fields)];
        this.compared(input.entity, mismatches, first.length > 0 && fields.length === 0);
      });
    }
    return input.served;
  }

  /**
   * One page of a listing: as read(), comparing the pages' items matched by the codec's identity (an item on one side
   * only is a mismatch too; the order is not compared). Compare first pages (or pages reached with each store's own
   * cursor): a cursor of one store cannot continue the other's listing.
   */
  readPage<P extends { readonly items: readonly object[] }>(input: ShadowPageInput<P>): Promise<P> {
    const started = this.startShadow(input);
    if (started) {
      this.inBackground(input.entity, async () => {
        const [served, outcome] = await Promise.all([settled(input.served), started.outcome]);
        if (!this.counted(input.entity, outcome) || served.kind !== "value" || outcome.kind !== "value") return;
        const codec = this.codec.entity<object>(input.entity);
        const first = comparePages(codec, served.value.items, outcome.value.items);
        // The page read again on both stores: what is on it, not only what its items hold, must agree.
        const again =
          first.length > 0 && input.recheck
            ? await this.readUntilAgreed(
                input,
                ([left, right]) => comparePages(codec, left.items, right.items).length > 0,
              )
            : undefined;
        if (again !== undefined) this.counted(input.entity, again.outcome);
        const differences =
          again?.last !== undefined ? comparePages(codec, again.last[0].items, again.last[1].items) : first;
        if (input.stillShadowing && !input.stillShadowing()) return;
        const mismatches = differences.map(({ key, fields }) =>
          this.mismatch(input, started.correlationId, key, fields),
        );
        this.compared(input.entity, mismatches, first.length > 0 && differences.length === 0);
      });
    }
    return input.served;
  }

  /** Waits for the comparisons in the background (each ends within the budget once its served read has settled). */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  /** Adds the comparisons counted so far to the control table's shadow counters (when given one). Never throws. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.addCounts());
    this.flushing = run;
    return run;
  }

  /** Stops shadowing (reads are still served), waits for the comparisons under way, flushes the counters and the sink. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
    try {
      await this.sink.flush?.();
    } catch (error) {
      this.report(error, { stage: "sink" });
    }
  }

  /** What is under way: shadow reads outstanding, comparisons in the background, counts not yet flushed. */
  state(): {
    inFlight: number;
    comparing: number;
    unflushed: { comparisons: number; mismatches: number; errors: number; timeouts: number };
  } {
    return { inFlight: this.inFlight, comparing: this.tasks.size, unflushed: { ...this.unflushed } };
  }

  /** Decides whether to shadow this read and, if so, starts the shadow read under its budget. */
  private startShadow<R>(input: ShadowInput<R>): { outcome: Promise<Outcome<R>>; correlationId: string } | undefined {
    if (this.stopped || !this.sampled()) return undefined;
    if (this.inFlight >= this.maxInFlight) {
      this.counters.skipped.inc({ entity: input.entity, reason: "in-flight" });
      return undefined;
    }
    const correlationId = input.correlationId ?? currentCorrelationId() ?? randomUUID();
    const controller = new AbortController();
    const begin = (): Promise<R> => {
      try {
        return Promise.resolve(input.shadow(controller.signal));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const outcome = new Promise<Outcome<R>>((resolve) => {
      const run = () => {
        // Counted from its start: a shadow read waiting for its request to answer holds nothing yet.
        this.inFlight++;
        const timer = setTimeout(() => {
          resolve({ kind: "timeout" });
          controller.abort(new ShadowBudgetExceeded(this.budgetMs));
        }, this.budgetMs);
        // An abandoned shadow read does not keep the process alive.
        timer.unref();
        begin().then(
          (value) => {
            clearTimeout(timer);
            this.inFlight--;
            resolve({ kind: "value", value });
          },
          (error: unknown) => {
            clearTimeout(timer);
            this.inFlight--;
            resolve({ kind: "error", error });
          },
        );
      };
      // After the served read (startAfter), and after the request has answered (shadowReadsAfter).
      const waits = [input.startAfter, requestAnswered()].filter((wait) => wait !== undefined);
      if (waits.length === 0) run();
      else Promise.allSettled(waits).then(run);
    });
    return { outcome, correlationId };
  }

  private sampled(): boolean {
    let rate: number;
    try {
      rate = this.sampleRate();
    } catch {
      return false;
    }
    if (!(rate > 0)) return false;
    return rate >= 1 || this.random() < rate;
  }

  /** Counts a shadow read that failed or timed out; true when it has a result to compare. */
  private counted<R>(entity: string, outcome: Outcome<R>): boolean {
    if (outcome.kind === "timeout") {
      this.counters.timeouts.inc({ entity });
      this.unflushed.timeouts++;
      this.scheduleFlush();
      return false;
    }
    if (outcome.kind === "error") {
      this.counters.errors.inc({ entity });
      this.unflushed.errors++;
      this.scheduleFlush();
      this.report(outcome.error, { stage: "shadow", entity });
      return false;
    }
    return true;
  }

  private mismatch(
    input: ShadowInput<unknown>,
    correlationId: string,
    key: Record<string, string | null>,
    fields: MismatchField[],
  ): Mismatch {
    const servedBy = input.servedBy ?? "mysql";
    return {
      id: randomUUID(),
      at: new Date().toISOString(),
      entity: input.entity,
      key,
      servedBy,
      shadowFrom: servedBy === "mysql" ? "dynamodb" : "mysql",
      correlationId,
      fields,
    };
  }

  /**
   * Reads again (readAgain) after each of RECHECK_DELAY_FACTORS while the two reads still differ, and not once the reader
   * is stopping: the last recheck's outcome (a failed or timed-out one ends the rechecks), and the last pair read.
   */
  private async readUntilAgreed<R>(
    input: ShadowInput<R>,
    differ: (pair: [R, R]) => boolean,
  ): Promise<{ outcome: Outcome<[R, R]>; last?: [R, R] }> {
    let outcome: Outcome<[R, R]> = { kind: "timeout" };
    let last: [R, R] | undefined;
    for (const [i, factor] of RECHECK_DELAY_FACTORS.entries()) {
      if (i > 0 && this.stopped) break;
      outcome = await this.readAgain(input, this.recheckMs * factor);
      if (outcome.kind !== "value") break;
      last = outcome.value;
      if (!differ(outcome.value)) break;
    }
    return last === undefined ? { outcome } : { outcome, last };
  }

  /**
   * The read made again on both stores `delayMs` after its results differed. It has a budget of its own,
   * RECHECK_BUDGET_FACTOR times the shadow read's (at least a second): it waits for the served store too, whose read
   * the shadow budget never counts. Counted in flight until it settles, abandoned or not.
   */
  private async readAgain<R>(input: ShadowInput<R>, delayMs: number): Promise<Outcome<[R, R]>> {
    const recheck = input.recheck as NonNullable<ShadowInput<R>["recheck"]>;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const budget = Math.max(1_000, this.budgetMs * RECHECK_BUDGET_FACTOR);
    this.inFlight++;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<Outcome<[R, R]>>((resolve) => {
        timer = setTimeout(() => {
          resolve({ kind: "timeout" });
          controller.abort(new ShadowBudgetExceeded(budget));
        }, budget);
        timer.unref();
        Promise.resolve()
          .then(() => recheck(controller.signal))
          .finally(() => this.inFlight--)
          .then(
            (value) => resolve({ kind: "value", value }),
            (error: unknown) => resolve({ kind: "error", error }),
          );
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Counts one comparison (a mismatch when any item differed; `settled` when items differed and agreed when read
   * again) and hands each mismatch to the sink.
   */
  private compared(entity: string, mismatches: Mismatch[], settled = false): void {
    this.counters.comparisons.inc({ entity });
    this.unflushed.comparisons++;
    if (settled) this.counters.settled.inc({ entity });
    if (mismatches.length > 0) {
      this.counters.mismatches.inc({ entity });
      this.unflushed.mismatches++;
    }
    for (const mismatch of mismatches) {
      try {
        this.sink.record(mismatch);
      } catch (error) {
        this.report(error, { stage: "sink", entity });
      }
    }
    this.scheduleFlush();
  }

  /** Runs a comparison in the background; whatever it throws is counted, never passed on. */
  private inBackground(entity: string, compare: () => Promise<void>): void {
    const task = compare().catch((error: unknown) => {
      this.counters.errors.inc({ entity });
      this.unflushed.errors++;
      this.scheduleFlush();
      this.report(error, { stage: "compare", entity });
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private scheduleFlush(): void {
    if (!this.control || this.flushTimer !== undefined || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  private async addCounts(): Promise<void> {
    const control = this.control;
    const counts = this.unflushed;
    if (!control || Object.values(counts).every((count) => count === 0)) return;
    this.unflushed = { comparisons: 0, mismatches: 0, errors: 0, timeouts: 0 };
    try {
      await addShadowCounts(control.client, control.tablePrefix, counts);
    } catch (error) {
      // Kept for the next flush: the 3 -> 4 precondition must not lose comparisons, least of all mismatches.
      this.unflushed.comparisons += counts.comparisons;
      this.unflushed.mismatches += counts.mismatches;
      this.unflushed.errors += counts.errors;
      this.unflushed.timeouts += counts.timeouts;
      this.counters.countFlushErrors.inc();
      this.report(error, { stage: "counts" });
      this.scheduleFlush();
      return;
    }
    try {
      // The console's chart (display only: a minute that cannot be written is not tried again).
      await addShadowMinute(control.client, control.tablePrefix, Date.now(), counts);
    } catch (error) {
      this.report(error, { stage: "counts" });
    }
  }

  private report(error: unknown, context: ShadowErrorContext): void {
    try {
      this.onError?.(error, context);
    } catch {
      // A failing logger must not break the shadow reads.
    }
  }
}

/** The items of two pages that differ, matched by identity: in the served page's order, then the shadow's extras. */
function comparePages(
  codec: EntityCodec<object>,
  served: readonly object[],
  shadow: readonly object[],
): Array<{ key: Record<string, string | null>; fields: MismatchField[] }> {
  const byIdentity = new Map<string, { key: Record<string, string | null>; served?: object; shadow?: object }>();
  const entry = (value: object) => {
    const key = identityOf(codec, value);
    const id = JSON.stringify(key);
    let found = byIdentity.get(id);
    if (!found) {
      found = { key };
      byIdentity.set(id, found);
    }
    return found;
  };
  for (const item of served) entry(item).served = item;
  for (const item of shadow) entry(item).shadow = item;
  const differences: Array<{ key: Record<string, string | null>; fields: MismatchField[] }> = [];
  for (const { key, served: left, shadow: right } of byIdentity.values()) {
    const fields = diffValues(codec, left, right);
    if (fields.length > 0) differences.push({ key, fields });
  }
  return differences;
}

function settled<T>(promise: Promise<T>): Promise<{ kind: "value"; value: T } | { kind: "error"; error: unknown }> {
  return promise.then(
    (value) => ({ kind: "value", value }) as const,
    (error: unknown) => ({ kind: "error", error }) as const,
  );
}
