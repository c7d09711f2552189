/**
 * CachedPhase: the shared phase as one process of the fleet holds it (docs/architecture.md, "Phases"). It caches the
 * phase read from the PhaseStore (the router's PhaseSource), refreshes it every `refreshMs`, and writes this
 * process's heartbeat (./heartbeats.ts) after every refresh, so operators see when a change has reached the fleet.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { Phase, PhaseSource } from "../phases.ts";
import { DEFAULT_HEARTBEAT_TTL_SECONDS, DEFAULT_REFRESH_MS, heartbeatItem, heartbeatKey } from "./heartbeats.ts";
import type { PhaseState } from "./phase-state.ts";
import type { PhaseStore } from "./phase-store.ts";

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
  /** Told about every failed refresh or heartbeat (for logging); it must not throw. */
  onError?: (error: unknown) => void;
}

/** What a CachedPhase knows and how its refreshes went. */
export interface CachedPhaseState {
  instanceId: string;
  app: string;
  host: string;
  /** Between start() and stop(). */
  running: boolean;
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
}

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
  private readonly onError: ((error: unknown) => void) | undefined;
  private cached: PhaseState | undefined;
  private running = false;
  private startedAt = "";
  private timer: NodeJS.Timeout | undefined;
  /** Refreshes run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private counts = { refreshes: 0, versionSeenAtRefresh: 0, failures: 0, heartbeats: 0, heartbeatFailures: 0 };
  private refreshedAt: string | undefined;
  private lastError: { message: string; at: string } | undefined;

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
  }

  /** Loads the phase (rejecting when that fails: there is no phase to run with), writes a heartbeat, starts refreshing. */
  async start(): Promise<void> {
    if (this.running) return;
    this.cached = await this.store.get();
    this.counts.refreshes++;
    this.counts.versionSeenAtRefresh = this.counts.refreshes;
    this.refreshedAt = new Date().toISOString();
    this.running = true;
    this.startedAt = this.refreshedAt;
    // The first heartbeat is the start itself: one instant for both (a later clock tick made them differ).
    await this.heartbeat(Date.parse(this.startedAt));
    this.schedule(this.refreshMs);
  }

  /** Stops refreshing (after the refresh in flight) and removes this instance's heartbeat. Never throws. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.queue;
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

  state(): CachedPhaseState {
    return {
      instanceId: this.instanceId,
      app: this.app,
      host: this.host,
      running: this.running,
      current: this.cached,
      ...this.counts,
      refreshedAt: this.refreshedAt,
      lastError: this.lastError,
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
    let loaded: PhaseState;
    try {
      loaded = await this.store.get();
    } catch (error) {
      this.failed("failures", error);
      return false;
    }
    this.counts.refreshes++;
    if (this.cached === undefined || loaded.version !== this.cached.version) {
      this.counts.versionSeenAtRefresh = this.counts.refreshes;
    }
    this.cached = loaded;
    this.refreshedAt = new Date().toISOString();
    if (this.running) await this.heartbeat();
    return true;
  }

  private async heartbeat(now = Date.now()): Promise<void> {
    const current = this.cached;
    if (current === undefined) return;
    const item = heartbeatItem(
      {
        instanceId: this.instanceId,
        host: this.host,
        app: this.app,
        versionSeen: current.version,
        phaseSeen: current.phase,
        startedAt: this.startedAt,
        lastSeen: new Date(now).toISOString(),
      },
      this.ttlSeconds,
    );
    try {
      const table = await this.store.table();
      await this.store.client.send(new PutItemCommand({ TableName: table, Item: item }));
      this.counts.heartbeats++;
    } catch (error) {
      this.failed("heartbeatFailures", error);
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(async () => {
      const started = Date.now();
      await this.refresh();
      // On cadence: the next refresh starts refreshMs after this one started (at once when it took longer).
      this.schedule(Math.max(0, this.refreshMs - (Date.now() - started)));
    }, delayMs);
    // Refreshing alone does not keep the process alive.
    this.timer.unref();
  }

  private failed(counter: "failures" | "heartbeatFailures", error: unknown): void {
    this.counts[counter]++;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.lastError = { message, at: new Date().toISOString() };
    try {
      this.onError?.(error);
    } catch {
      // A failing logger must not stop the refreshes.
    }
  }
}
