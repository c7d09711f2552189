/**
 * FleetMember: everything one process of the fleet runs under the generated repositories, started and stopped
 * together: the shared phase (cached, refreshed, with a heartbeat), the outbox and its drain loop, phase 3's shadow
 * reads with their mismatch log, and the metrics the app mounts at /metrics. `storeOptions` is what the generated
 * `createStore()` takes.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Contract } from "@ferry/contract";
import type { Codec } from "./codec/index.ts";
import { CachedPhase, CONTROL_KEY, controlClientFor, controlTableName, PhaseStore } from "./control/index.ts";
import { DynamoEntityStore } from "./dynamodb/index.ts";
import { probeTable } from "./dynamodb/table-probe.ts";
import { FailureLog } from "./failure-log.ts";
import { Metrics } from "./metrics/index.ts";
import { MysqlEntityStore, type MysqlExecutor } from "./mysql/index.ts";
import { Outbox } from "./outbox/index.ts";
import { BackgroundCopies } from "./router/index.ts";
import { MismatchLog, ShadowReader } from "./shadow/index.ts";
import { contractCodec, type StoreOptions } from "./store/index.ts";

export interface FleetMemberOptions {
  contract: Contract;
  /** The app's database: a pool (from createMysqlPool), so that transactions and the outbox get connections of their own. */
  mysql: MysqlExecutor;
  dynamodb: DynamoDBClient;
  /**
   * The client for the phase reads and heartbeats that keep the write lease (default: one made from `dynamodb`'s
   * settings with connections of its own, destroyed by stop(), so that they never wait behind the data's calls).
   */
  controlDynamodb?: DynamoDBClient;
  tablePrefix?: string;
  /** The app's name in the fleet view, e.g. "store". */
  app: string;
  /** How often the phase is read again (default 1000 ms). */
  refreshMs?: number;
  /**
   * A process not heard from for this long is no longer live (default 3 s: three missed heartbeats): by this process's
   * phase store (the fleet view; silent processes still count until their write lease ends) and by its CachedPhase,
   * which reads the phase once more when it comes back later than this.
   */
  staleAfterMs?: number;
  /**
   * How long this process goes on writing without reaching the control table (its write lease, default 30 s): a
   * DynamoDB outage shorter than this stops no write MySQL can take; a move waits this long for a process that died.
   */
  writeLeaseMs?: number;
  /**
   * How many dual writes may answer before their copy to the other store has landed (each covered by its intent; the
   * copy and its check run on in the background, and phase moves and stop() wait for them as for writes in flight).
   * Default 0: every write answers after its copy. A write beyond the limit waits for its own copy.
   */
  backgroundCopies?: number;
  /** The time budget of a shadow read (default 100 ms). */
  shadowBudgetMs?: number;
  /** Where failures of the background parts are told (default console.error); it must not throw. */
  log?: (message: string, error?: unknown) => void;
}

/** What a process's /healthz reports: each store answering, and the phase it routes by. */
export interface FleetHealth {
  /**
   * The process serves: the authoritative store answered (MySQL before phase 4, DynamoDB from 4 on; the other one's
   * copies wait in the outbox), the phase was read and the heartbeat written within the write lease, and it is not
   * stopping.
   */
  ok: boolean;
  /** It takes writes: the phase was read and the heartbeat written within the write lease (WritesSuspended past it). */
  writable: boolean;
  phase: number;
  /** When the phase was last read (ISO-8601), if ever. */
  phaseReadAt?: string;
  mysql: { ok: boolean; ms: number; error?: string };
  dynamodb: { ok: boolean; ms: number; error?: string };
}

export class FleetMember {
  readonly codec: Codec;
  readonly phaseStore: PhaseStore;
  readonly phase: CachedPhase;
  readonly metrics = new Metrics();
  readonly outbox: Outbox;
  readonly mismatches: MismatchLog;
  readonly shadow: ShadowReader;
  /** What the generated createStore() takes, every option filled in. */
  readonly storeOptions: Required<StoreOptions>;
  /** The copies running after their writes have answered (`backgroundCopies`); `settled()` waits for them. */
  readonly copies: BackgroundCopies;
  /** The control client this member made (and destroys when it stops), if none was given. */
  private readonly ownControlClient: DynamoDBClient | undefined;

  constructor(private readonly options: FleetMemberOptions) {
    const tablePrefix = options.tablePrefix ?? "";
    const log = options.log ?? ((message: string, error?: unknown) => console.error(`ferry: ${message}`, error ?? ""));
    const failures = new FailureLog(log);
    this.codec = contractCodec(options.contract);
    this.copies = new BackgroundCopies(options.backgroundCopies ?? 0);
    const staleAfter = options.staleAfterMs === undefined ? {} : { staleAfterMs: options.staleAfterMs };
    const control = options.controlDynamodb ?? controlClientFor(options.dynamodb);
    this.ownControlClient = options.controlDynamodb === undefined ? control : undefined;
    this.phaseStore = new PhaseStore(control, {
      tablePrefix,
      ...staleAfter,
      // A move that makes a store authoritative waits until no failed write for it is left in the outbox; an outbox
      // that cannot be read is not an empty one (the phase store refuses the move then).
      pendingWrites: async (store, { inFlight }) => {
        const waiting = (await this.outbox.metrics())[store];
        if (waiting.readable === 0) {
          throw new Error(`${this.outbox.storageOf(store)} could not be read`);
        }
        // Writes in flight, when asked: they may not have reached the store yet.
        return waiting.depth + (inFlight ? waiting.inFlight : 0);
      },
    });
    this.phase = new CachedPhase(this.phaseStore, {
      app: options.app,
      ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
      ...staleAfter,
      ...(options.writeLeaseMs === undefined ? {} : { writeLeaseMs: options.writeLeaseMs }),
      // Once when it starts failing and once when it works again: a refresh every few hundred milliseconds would
      // otherwise log each try of an outage.
      onError: (error, what) =>
        failures.failed(
          what,
          what === "phase" ? "reading the phase failed; keeping the last one" : "writing the heartbeat failed",
          error,
        ),
      onSuccess: (what) =>
        failures.recovered(
          what,
          what === "phase" ? "the phase can be read again" : "the heartbeat can be written again",
        ),
    });
    this.outbox = new Outbox({
      phase: this.phase,
      codec: this.codec,
      mysql: new MysqlEntityStore(options.mysql, this.codec),
      dynamodb: new DynamoEntityStore(options.dynamodb, this.codec, { tablePrefix }),
      mysqlConnection: options.mysql,
      controlTable: { client: options.dynamodb, tablePrefix },
      log,
    });
    this.mismatches = new MismatchLog(options.dynamodb, { tablePrefix, metrics: this.metrics });
    this.shadow = new ShadowReader({
      codec: this.codec,
      metrics: this.metrics,
      sampleRate: () => this.phase.current().shadowSampleRate,
      ...(options.shadowBudgetMs === undefined ? {} : { budgetMs: options.shadowBudgetMs }),
      sink: this.mismatches,
      control: { client: options.dynamodb, tablePrefix },
      onError: (error) => log("a shadow read failed", error),
    });
    this.metrics.gauge({
      name: "ferry_phase",
      help: "The migration phase this process routes by (1-5).",
      collect: () => this.phase.phase(),
    });
    this.metrics.gauge({
      name: "ferry_background_copies",
      help: "Dual writes answered whose copy to the other store is still running (backgroundCopies).",
      collect: () => this.copies.size,
    });
    this.metrics.gauge({
      name: "ferry_outbox_depth",
      help: "Failed secondary writes waiting in the outbox, by the store they are for.",
      labels: ["store"],
      collect: async () => {
        const metrics = await this.outbox.metrics();
        return Object.entries(metrics).map(([store, m]) => ({ labels: { store }, value: m.depth }));
      },
    });
    this.metrics.gauge({
      name: "ferry_outbox_oldest_age_seconds",
      help: "Age of the oldest entry waiting in the outbox, by the store it is for (0 when empty).",
      labels: ["store"],
      collect: async () => {
        const metrics = await this.outbox.metrics();
        return Object.entries(metrics).map(([store, m]) => ({ labels: { store }, value: m.oldestAgeSeconds }));
      },
    });
    this.metrics.gauge({
      name: "ferry_outbox_stuck_entries",
      help: "Outbox entries marked stuck (their sync keeps failing for a reason no retry fixes), by the store they are for.",
      labels: ["store"],
      collect: async () => {
        const metrics = await this.outbox.metrics();
        return Object.entries(metrics).map(([store, m]) => ({ labels: { store }, value: m.stuck }));
      },
    });
    this.metrics.gauge({
      name: "ferry_outbox_stranded_entries",
      help: "Outbox entries for the store that is authoritative now, left by a forced move: settled by the drain in phases 2-4, by ferry outbox resolve in 1 and 5; by store.",
      labels: ["store"],
      collect: async () => {
        const metrics = await this.outbox.metrics();
        return Object.entries(metrics).map(([store, m]) => ({ labels: { store }, value: m.stranded }));
      },
    });
    this.storeOptions = {
      phase: this.phase,
      mysql: options.mysql,
      dynamodb: options.dynamodb,
      tablePrefix,
      onSecondaryFailure: this.outbox.record,
      intents: this.outbox.intents,
      metrics: this.metrics,
      shadow: this.shadow,
      background: this.copies,
    };
  }

  /**
   * Asks each store to answer (MySQL `SELECT 1`, DynamoDB a GetItem of the control table, each within `timeoutMs`)
   * and tells the phase this process routes by: what an app's /healthz serves.
   */
  async health(timeoutMs = 2_000): Promise<FleetHealth> {
    const probe = async (run: (signal: AbortSignal) => Promise<unknown>) => {
      const started = performance.now();
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          run(abort.signal),
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              // The limit's message first; then the call is aborted (a DynamoDB probe gives its connection back).
              reject(new Error(`no answer within ${timeoutMs} ms`));
              abort.abort();
            }, timeoutMs);
          }),
        ]);
        return { ok: true, ms: Math.round(performance.now() - started) };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { ok: false, ms: Math.round(performance.now() - started), error: message };
      } finally {
        clearTimeout(timer);
      }
    };
    const [mysql, dynamodb] = await Promise.all([
      probe(() => this.options.mysql.query({ sql: "SELECT 1" })),
      // Aborted at the limit: a probe the server never answers must not keep a connection the data calls need.
      probe((signal) =>
        probeTable(this.options.dynamodb, controlTableName(this.options.tablePrefix ?? ""), CONTROL_KEY, {
          abortSignal: signal,
        }),
      ),
    ]);
    const state = this.phase.state();
    // Writable: the phase read and the heartbeat written within the write lease (past it, writes are refused).
    const writable =
      state.inTouchAt !== undefined && Date.now() - Date.parse(state.inTouchAt) <= this.phase.writeLeaseMs;
    // The authoritative store must answer: MySQL before phase 4, DynamoDB from 4 on. The other one's copies wait in the
    // outbox while it is unreachable, and the process serves on (a load balancer keeps it).
    const phase = this.phase.phase();
    const authoritative = phase < 4 ? mysql.ok : dynamodb.ok;
    return {
      ok: authoritative && writable && !state.draining,
      writable,
      phase,
      ...(state.refreshedAt === undefined ? {} : { phaseReadAt: state.refreshedAt }),
      mysql,
      dynamodb,
    };
  }

  /** Reads the phase (failing when it cannot be read at all) and starts the refresh, the heartbeat and the drain. */
  async start(): Promise<void> {
    try {
      await this.phase.start();
    } catch (error) {
      // Not started, so never stopped: the control client this member made goes now.
      this.ownControlClient?.destroy();
      throw error;
    }
    this.outbox.start();
  }

  /** Stops the background parts, storing what they hold (outbox entries, shadow counts, mismatches) first. */
  async stop(): Promise<void> {
    // No new write, and the ones in flight finish first: what they leave in the outbox is stored, and their settled
    // intents removed, below (an intent left behind holds a move of the authoritative store for its grace).
    await this.phase.drain();
    await this.outbox.flushed().catch(() => undefined);
    // Settled writes' intents go now, not after their grace (a restart would leave them for the next move to wait on).
    await this.outbox.intents.removed();
    await this.outbox.stop();
    await this.shadow.stop();
    await this.mismatches.stop();
    await this.phase.stop();
    this.ownControlClient?.destroy();
  }
}
