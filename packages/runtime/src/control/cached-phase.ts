/**
 * CachedPhase: the shared phase as one process of the fleet holds it (docs/architecture.md, "Phases"). It caches the
 * phase read from the PhaseStore (the router's PhaseSource), refreshes it every `refreshMs`, and writes this
 * process's heartbeat (./heartbeats.ts) after every refresh, so operators see when a change has reached the fleet.
 *
 * It is also where writes start (beginWrite): it counts the writes in flight, per phase version, and reports them in
 * its heartbeat. While the phase item announces a move that changes the authoritative store it holds new writes,
 * acks the announcement in its heartbeat, and reads the phase every `holdPollMs`, until the move is committed (held
 * writes run under the new phase) or cancelled (they run under the old one); it cancels a move whose deadline (plus
 * `moveGraceMs`) has passed itself, so that it never resumes while the move could still be committed.
 *
 * Each heartbeat gives the process a write lease (`writeLeaseMs`, 30 s): it may go on writing under the phase it last
 * read until then without being heard from again, and every move waits for a silent process until its lease (plus a
 * margin) has run out. So a short outage of the control table (DynamoDB) stops no write; a process that has not read
 * the phase and written its heartbeat for longer than its lease refuses writes (WritesSuspended) until it has again.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { WritesSuspended } from "../errors.ts";
import type { Phase, PhaseSource, WriteTicket } from "../phases.ts";
import {
  DEFAULT_HEARTBEAT_TTL_SECONDS,
  DEFAULT_LEASE_MARGIN_MS,
  DEFAULT_REFRESH_MS,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_WRITE_LEASE_MS,
  heartbeatItem,
  heartbeatKey,
} from "./heartbeats.ts";
import { PhaseConflict } from "./phase-errors.ts";
import type { PhaseState } from "./phase-state.ts";
import type { PhaseStore } from "./phase-store.ts";

/** How long after an announced move's deadline a process cancels it, unless told otherwise. */
const DEFAULT_MOVE_GRACE_MS = 1_000;

export interface CachedPhaseOptions {
  /** The application this process is (e.g. "store", "admin"), shown in the fleet view. */
  app: string;
  /** Milliseconds between refreshes (default 1000). */
  refreshMs?: number;
  /** Default: a random UUID. */
  instanceId?: string;
  /** Default: os.hostname(). */
  host?: string;
  /** How long the heartbeat item outlives its last write (default 3600 s). */
  heartbeatTtlSeconds?: number;
  /** Told about every failed phase read or heartbeat (for logging); it must not throw. */
  onError?: (error: unknown, what: "phase" | "heartbeat") => void;
  /** Told about every phase read or heartbeat that worked (after onError: it works again); it must not throw. */
  onSuccess?: (what: "phase" | "heartbeat") => void;
  /**
   * After this long without a successful phase read and heartbeat, the fleet view shows this process as stale (default
   * 3 s, the fleet view's default: give both the same); coming back after that, it reads the phase once more.
   */
  staleAfterMs?: number;
  /**
   * Its write lease: after this long without a successful phase read and heartbeat, writes are refused (default 30 s).
   * Every heartbeat says when it ends, and moves wait for a silent process until then.
   */
  writeLeaseMs?: number;
  /** Milliseconds between phase reads while a move is announced (default the smaller of 50 and refreshMs). */
  holdPollMs?: number;
  /**
   * A move announced is cancelled by this process once its deadline has passed by this long, by this process's clock
   * (default 1 s): the process's side of the margin around the deadline (the mover stops committing its
   * PhaseStoreOptions.moveMarginMs before it), for clocks that differ.
   */
  moveGraceMs?: number;
  /** How long stop() waits for the writes in flight before it removes the heartbeat all the same (default 30 s). */
  stopDrainMs?: number;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** What a CachedPhase knows and how its refreshes went. */
export interface CachedPhaseState {
  instanceId: string;
  app: string;
  host: string;
  /** Between start() and stop(). */
  running: boolean;
  /** drain() (or stop()) has begun: no new write. */
  draining: boolean;
  /** The cached phase state; undefined before the first load. */
  current: PhaseState | undefined;
  /** Successful phase reads, the first load included. */
  refreshes: number;
  /** The refresh (count) that first loaded the cached version. */
  versionSeenAtRefresh: number;
  /** ISO-8601, of the last successful refresh. */
  refreshedAt: string | undefined;
  /** Failed phase reads (the cached value was kept). */
  failures: number;
  /** Heartbeats written. */
  heartbeats: number;
  /** Failed heartbeat writes (and a failed removal at stop()). */
  heartbeatFailures: number;
  /** The last failure of either kind. */
  lastError: { message: string; at: string } | undefined;
  /** Writes begun and not finished, by the phase version they began under. */
  inFlight: Record<number, number>;
  /** Writes waiting for an announced move to be committed or cancelled. */
  held: number;
  /** ISO-8601: the last time a phase read and the heartbeat after it both succeeded; writes need it recent. */
  inTouchAt: string | undefined;
}

/** How long stop() waits for the writes in flight before it removes the heartbeat all the same, unless told otherwise. */
const DEFAULT_STOP_DRAIN_MS = 30_000;

/**
 * The shared phase, cached in this process and refreshed from a PhaseStore every `refreshMs`; the router's
 * PhaseSource. start() awaits the first load; after that a failed refresh keeps the last value and is counted
 * (state()), never thrown. While running it writes this instance's heartbeat after every refresh.
 */
export class CachedPhase implements PhaseSource {
  readonly instanceId: string;
  readonly app: string;
  readonly host: string;
  readonly refreshMs: number;
  private readonly ttlSeconds: number;
  private readonly onError: ((error: unknown, what: "phase" | "heartbeat") => void) | undefined;
  private readonly onSuccess: ((what: "phase" | "heartbeat") => void) | undefined;
  private cached: PhaseState | undefined;
  private running = false;
  /** Set by drain(): no new write from then on (until start() again). */
  private draining: Promise<void> | undefined;
  private startedAt = "";
  private timer: NodeJS.Timeout | undefined;
  /** Refreshes run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private counts = { refreshes: 0, versionSeenAtRefresh: 0, failures: 0, heartbeats: 0, heartbeatFailures: 0 };
  private refreshedAt: string | undefined;
  private lastError: { message: string; at: string } | undefined;
  private readonly staleAfterMs: number;
  /** How long this process writes on without reaching the control table (its write lease). */
  readonly writeLeaseMs: number;
  private readonly stopDrainMs: number;
  private readonly holdPollMs: number;
  private readonly moveGraceMs: number;
  private readonly now: () => number;
  /** Writes in flight by the phase version they began under, and their total. */
  private readonly inFlight = new Map<number, number>();
  private inFlightTotal = 0;
  /** Waiting for the writes in flight to finish (stop()). */
  private readonly drained: Array<() => void> = [];
  /** Writes held while a move is announced. */
  private held: Array<{ resolve: (ticket: WriteTicket) => void; reject: (error: unknown) => void }> = [];
  /** When a phase read and the heartbeat after it last both succeeded (ms, by `now`). */
  private inTouchAt: number | undefined;

  constructor(
    readonly store: PhaseStore,
    options: CachedPhaseOptions,
  ) {
    const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    if (!Number.isFinite(refreshMs) || refreshMs <= 0) {
      throw new RangeError(`refreshMs must be a positive number of milliseconds, got ${refreshMs}`);
    }
    if (options.app.trim() === "") throw new RangeError("a CachedPhase needs the name of its app");
    this.refreshMs = refreshMs;
    this.app = options.app;
    this.instanceId = options.instanceId ?? randomUUID();
    this.host = options.host ?? hostname();
    this.ttlSeconds = options.heartbeatTtlSeconds ?? DEFAULT_HEARTBEAT_TTL_SECONDS;
    this.onError = options.onError;
    this.onSuccess = options.onSuccess;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.writeLeaseMs = options.writeLeaseMs ?? DEFAULT_WRITE_LEASE_MS;
    if (!Number.isFinite(this.writeLeaseMs) || this.writeLeaseMs <= 0) {
      throw new RangeError(`writeLeaseMs must be a positive number of milliseconds, got ${this.writeLeaseMs}`);
    }
    // DynamoDB's TTL must not remove a heartbeat whose lease still runs (movers would stop waiting for its process).
    if (this.ttlSeconds * 1000 <= this.writeLeaseMs + DEFAULT_LEASE_MARGIN_MS) {
      throw new RangeError(
        `heartbeatTtlSeconds (${this.ttlSeconds}) must outlast the write lease (${this.writeLeaseMs} ms) and its margin`,
      );
    }
    this.stopDrainMs = options.stopDrainMs ?? DEFAULT_STOP_DRAIN_MS;
    this.holdPollMs = options.holdPollMs ?? Math.min(50, refreshMs);
    this.moveGraceMs = options.moveGraceMs ?? DEFAULT_MOVE_GRACE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Loads the phase (rejecting when that fails: there is no phase to run with), writes a heartbeat, starts refreshing. */
  async start(): Promise<void> {
    if (this.running) return;
    this.draining = undefined;
    this.cached = await this.store.get();
    this.counts.refreshes++;
    this.counts.versionSeenAtRefresh = this.counts.refreshes;
    this.refreshedAt = new Date(this.now()).toISOString();
    this.running = true;
    this.startedAt = this.refreshedAt;
    // The first heartbeat is the start itself: one instant for both (a later clock tick made them differ).
    const beat = Date.parse(this.startedAt);
    if (await this.heartbeat(beat)) await this.confirm(beat);
    this.schedule(this.delay());
  }

  /**
   * Takes no new write (held ones are refused) and waits for the writes in flight (at most stopDrainMs), refreshing
   * and writing the heartbeat meanwhile: the first step of a process that stops, so that what its writes leave behind
   * (outbox entries, intents to remove) can be stored before its heartbeat goes (stop()). Never throws.
   */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    // Once per stop: a second call (stop() after a FleetMember's drain) waits for the same drain, not for another.
    this.draining ??= this.drainWrites();
    return this.draining;
  }

  private async drainWrites(): Promise<void> {
    this.rejectHeld(new WritesSuspended("this process is stopping: it takes no writes", undefined));
    if (this.inFlightTotal === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.drained.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.stopDrainMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Drains (drain()), stops refreshing (after the refresh in flight), and removes this instance's heartbeat. Never
   * throws. The heartbeat goes last: a phase move that waits for the fleet must not stop waiting for a write this
   * process still has in flight.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.drain();
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.queue;
    this.rejectHeld(new WritesSuspended("this process's CachedPhase was stopped: it takes no writes", undefined));
    try {
      const table = await this.store.table();
      await this.store.client.send(new DeleteItemCommand({ TableName: table, Key: heartbeatKey(this.instanceId) }));
    } catch (error) {
      this.failed("heartbeatFailures", error);
    }
  }

  /** The cached phase; synchronous, for the router. */
  phase(): Phase {
    return this.current().phase;
  }

  /** The cached phase state (settings included, e.g. the shadow sampling rate). */
  current(): PhaseState {
    if (this.cached === undefined) throw new Error("CachedPhase has no phase yet: await start() first");
    return this.cached;
  }

  /**
   * Where a write starts: resolves with the phase it runs under, and its done() must be called once it has finished.
   * Held while a move of the authoritative store is announced; refused (WritesSuspended) once this process has been out
   * of touch with the control table for longer than its write lease, or is stopped.
   */
  async beginWrite(): Promise<WriteTicket> {
    const state = this.current();
    this.checkWritable();
    if (state.pending === undefined) return this.issue(state.version, state.phase);
    return new Promise<WriteTicket>((resolve, reject) => {
      this.held.push({ resolve, reject });
    });
  }

  /**
   * Where a replay of the outbox starts: counted in flight like a write, so a move of the authoritative store waits for
   * it, but never held (that move waits for the outbox to drain). Refused past the write lease or when stopped.
   */
  beginReplay(): WriteTicket {
    const state = this.current();
    this.checkWritable();
    return this.issue(state.version, state.phase);
  }

  state(): CachedPhaseState {
    return {
      instanceId: this.instanceId,
      app: this.app,
      host: this.host,
      running: this.running,
      draining: this.draining !== undefined,
      current: this.cached,
      ...this.counts,
      refreshedAt: this.refreshedAt,
      lastError: this.lastError,
      inFlight: Object.fromEntries(this.inFlight),
      held: this.held.length,
      inTouchAt: this.inTouchAt === undefined ? undefined : new Date(this.inTouchAt).toISOString(),
    };
  }

  /**
   * Reads the phase now (after the refresh in flight, if any) and, while running, writes the heartbeat. Resolves to
   * whether the read succeeded; never rejects.
   */
  refresh(): Promise<boolean> {
    const run = this.queue.then(() => this.load());
    this.queue = run;
    return run;
  }

  private async load(): Promise<boolean> {
    const loaded = await this.read();
    if (loaded === undefined) {
      if (this.leaseOver()) this.rejectHeld(this.suspended());
      return false;
    }
    this.counts.refreshes++;
    if (this.cached === undefined || loaded.version !== this.cached.version) {
      this.counts.versionSeenAtRefresh = this.counts.refreshes;
    }
    this.cached = loaded;
    this.refreshedAt = new Date(this.now()).toISOString();
    if (this.running) {
      const beat = this.now();
      if (await this.heartbeat(beat)) {
        // Back in touch after longer than the stale limit (by the time the heartbeat is written): the fleet view may
        // have stopped counting this process meanwhile and let a move through that the read above predates; only a
        // read after the heartbeat is sure to see it.
        if (this.outOfTouch()) await this.confirm(beat);
        else this.inTouchAt = beat;
      }
    }
    this.settleHeld();
    return true;
  }

  /**
   * The phase item, with a move announced past its deadline cancelled first (compare-and-set: it can then no longer be
   * committed, so writes may resume under the old phase); undefined when it cannot be read.
   */
  private async read(): Promise<PhaseState | undefined> {
    try {
      let loaded = await this.store.get();
      const pending = loaded.pending;
      if (this.running && pending !== undefined && this.now() > Date.parse(pending.deadline) + this.moveGraceMs) {
        try {
          loaded = await this.store.cancelMove(
            loaded,
            `${this.app}@${this.host} (${this.instanceId})`,
            "its deadline passed before it was committed",
          );
        } catch (error) {
          // Someone else committed or cancelled it first: what it is now decides.
          if (!(error instanceof PhaseConflict)) throw error;
          loaded = await this.store.get();
        }
      }
      this.succeeded("phase");
      return loaded;
    } catch (error) {
      this.failed("failures", error);
      return undefined;
    }
  }

  /** A phase read after the heartbeat written at `beat`: once it succeeds, the process is in touch as of `beat`. */
  private async confirm(beat: number): Promise<void> {
    const loaded = await this.read();
    if (loaded === undefined) return;
    // A version first seen here was seen at this refresh, as one the refresh's own read found.
    if (this.cached === undefined || loaded.version !== this.cached.version) {
      this.counts.versionSeenAtRefresh = this.counts.refreshes;
    }
    this.cached = loaded;
    this.inTouchAt = beat;
  }

  /** A write starts under `phase` (version `version`). */
  private issue(version: number, phase: Phase): WriteTicket {
    this.inFlight.set(version, (this.inFlight.get(version) ?? 0) + 1);
    this.inFlightTotal++;
    let finished = false;
    return {
      phase,
      done: () => {
        if (finished) return;
        finished = true;
        const left = (this.inFlight.get(version) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(version);
        else this.inFlight.set(version, left);
        this.inFlightTotal--;
        if (this.inFlightTotal === 0) for (const resolve of this.drained.splice(0)) resolve();
        // The last write under the old phase has finished: tell the mover now rather than at the next poll.
        if (this.inFlightTotal === 0 && this.cached?.pending !== undefined && this.running) void this.refresh();
      },
    };
  }

  /** Releases the held writes once no move is announced (under the phase now), rejects them past the write lease. */
  private settleHeld(): void {
    const state = this.cached;
    if (state === undefined || this.held.length === 0) return;
    if (this.leaseOver()) {
      this.rejectHeld(this.suspended());
      return;
    }
    if (state.pending !== undefined) return;
    const held = this.held;
    this.held = [];
    for (const waiter of held) waiter.resolve(this.issue(state.version, state.phase));
  }

  private rejectHeld(error: unknown): void {
    const held = this.held;
    this.held = [];
    for (const waiter of held) waiter.reject(error);
  }

  /** Not heard from by the fleet for longer than the stale limit: coming back, the phase is read once more. */
  private outOfTouch(): boolean {
    return this.inTouchAt === undefined || this.now() - this.inTouchAt > this.staleAfterMs;
  }

  /** The write lease of the last heartbeat has run out: a move may pass this process by from now on. */
  private leaseOver(): boolean {
    return this.inTouchAt === undefined || this.now() - this.inTouchAt > this.writeLeaseMs;
  }

  private checkWritable(): void {
    if (!this.running) {
      throw new WritesSuspended("this process's CachedPhase is not running (stopped): it takes no writes", undefined);
    }
    if (this.draining !== undefined) {
      throw new WritesSuspended("this process is stopping: it takes no writes", undefined);
    }
    if (this.leaseOver()) throw this.suspended();
  }

  private suspended(): WritesSuspended {
    const since = this.inTouchAt === undefined ? undefined : new Date(this.inTouchAt).toISOString();
    return new WritesSuspended(
      `this process takes no writes: it has not read the phase and written its heartbeat since ${since ?? "it started"} (over its write lease of ${this.writeLeaseMs} ms, after which a phase move may pass it by)${this.lastError ? `; last error: ${this.lastError.message}` : ""}`,
      since,
      { hint: "check that this process reaches the control table (DynamoDB); writes resume once a refresh succeeds" },
    );
  }

  /** The time to the next refresh: shorter while a move is announced, so that the pause is short. */
  private delay(): number {
    return this.cached?.pending !== undefined ? this.holdPollMs : this.refreshMs;
  }

  /** Writes the heartbeat (lastSeen `now`); whether it succeeded. */
  private async heartbeat(now = this.now()): Promise<boolean> {
    const current = this.cached;
    if (current === undefined) return false;
    const item = heartbeatItem(
      {
        instanceId: this.instanceId,
        host: this.host,
        app: this.app,
        versionSeen: current.version,
        phaseSeen: current.phase,
        inFlight: this.inFlightTotal,
        ...(current.pending === undefined ? {} : { moveTaken: current.version }),
        startedAt: this.startedAt,
        lastSeen: new Date(now).toISOString(),
        writesUntil: new Date(now + this.writeLeaseMs).toISOString(),
      },
      this.ttlSeconds,
    );
    try {
      const table = await this.store.table();
      await this.store.client.send(new PutItemCommand({ TableName: table, Item: item }));
      this.counts.heartbeats++;
      this.succeeded("heartbeat");
      return true;
    } catch (error) {
      this.failed("heartbeatFailures", error);
      return false;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(async () => {
      const started = Date.now();
      await this.refresh();
      // On cadence: the next refresh starts refreshMs after this one started (at once when it took longer).
      this.schedule(Math.max(0, this.delay() - (Date.now() - started)));
    }, delayMs);
    // Refreshing alone does not keep the process alive.
    this.timer.unref();
  }

  private failed(counter: "failures" | "heartbeatFailures", error: unknown): void {
    this.counts[counter]++;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.lastError = { message, at: new Date(this.now()).toISOString() };
    try {
      this.onError?.(error, counter === "failures" ? "phase" : "heartbeat");
    } catch {
      // A failing logger must not stop the refreshes.
    }
  }

  private succeeded(what: "phase" | "heartbeat"): void {
    try {
      this.onSuccess?.(what);
    } catch {
      // A failing logger must not stop the refreshes.
    }
  }
}
