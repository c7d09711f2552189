/**
 * What the console starts on the stores and runs in its own process: a backfill worker, a validation, a repair. Each
 * is the runtime's own function, called as the CLI calls it (runBackfill, BackfillLedger.stop, validate, repair); this
 * module only starts them in the background, keeps the last one of each kind to show, and records who did what in the
 * audit trail. A refusal (the phase, a stopped run, bad options) is answered at once, before anything is written.
 */
import {
  type AuditTrail,
  BackfillError,
  BackfillLedger,
  type BackfillResult,
  BackfillRunClosed,
  CachedPhase,
  checkRunOptions,
  checkValidateOptions,
  DynamoEntityStore,
  drainNow,
  MysqlEntityStore,
  Outbox,
  type OutboxEntry,
  type OutboxMetrics,
  type Phase,
  type PhaseSource,
  type PhaseStore,
  type RunReport,
  repair,
  repairTarget,
  runBackfill,
  type StoreName,
  secondaryStore,
  ValidationError,
  type ValidationReport,
  validate,
} from "@ferry/runtime";
import { AdminError } from "./errors.ts";
import { type ConsoleStores, needStores } from "./stores.ts";

export type WorkKind = "backfill" | "validation" | "repair" | "outbox";

/** The outbox as the console shows it: per store, how many wait and how old, and the stuck ones. */
export interface OutboxStatus {
  phase: Phase;
  /** Where the current phase replays to; undefined when it writes one store only. */
  secondary: StoreName | undefined;
  metrics: OutboxMetrics;
  storage: Record<StoreName, string>;
  /** The first few stuck entries per store (their sync keeps failing for a reason no retry is expected to fix). */
  stuck: Record<StoreName, OutboxEntry[]>;
}

const STUCK_SHOWN = 10;

/** A piece of work this console started, as its pages show it. */
export interface WorkView {
  kind: WorkKind;
  who: string;
  /** ISO-8601. */
  startedAt: string;
  endedAt?: string;
  state: "running" | "done" | "stopped" | "failed";
  /** One line: what it is doing or how it ended. */
  message: string;
  /** The backfill run it works on. */
  runId?: string;
  /** The validation report it recorded. */
  reportId?: string;
}

export interface BackfillStart {
  entities?: string[];
  rate?: number;
}

export interface ValidationStart {
  entities?: string[];
  sample?: number;
}

type Note = (entry: Parameters<AuditTrail["record"]>[0]) => Promise<void>;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function entityList(entities: readonly string[] | undefined): string {
  return entities === undefined ? "every entity" : entities.join(", ");
}

export class ConsoleWork {
  private backfillView: WorkView | undefined;
  private drainView: WorkView | undefined;
  private checkView: WorkView | undefined;
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  /** This console's backfill worker until it has ended (settled either way). */
  private worker: Promise<void> = Promise.resolve();
  /** This console's drain until it has ended (it leaves the fleet when it does). */
  private draining: Promise<unknown> = Promise.resolve();

  constructor(
    readonly stores: ConsoleStores,
    private readonly phases: PhaseStore,
    private readonly note: Note,
    private readonly log: (message: string, error?: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The backfill worker this console runs or ran last. */
  backfillWorker(): WorkView | undefined {
    return this.backfillView === undefined ? undefined : { ...this.backfillView };
  }

  /** The validation or repair this console runs or ran last. */
  check(): WorkView | undefined {
    return this.checkView === undefined ? undefined : { ...this.checkView };
  }

  /**
   * Starts a backfill worker in this process on a new run, or on the open one (`resume`: a stopped one, which it
   * resumes). Answers once the worker has its run; a refusal (the phase, the fleet, a stopped run, an unknown entity)
   * is a 409 or 400 with the runtime's reason, and nothing is written.
   */
  async startBackfill(who: string, start: BackfillStart, resume: boolean): Promise<{ runId: string; joined: boolean }> {
    this.open();
    if (this.backfillView?.state === "running") {
      throw new AdminError(
        409,
        "busy",
        `This console's backfill worker is still on run ${this.backfillView.runId ?? "(starting)"} (after a stop, it ends with the page under way): try again in a moment.`,
      );
    }
    try {
      checkRunOptions(this.stores.codec, start);
    } catch (error) {
      throw new AdminError(400, "invalid", errorText(error), { entities: errorText(error) });
    }
    const view: WorkView = {
      kind: "backfill",
      who,
      startedAt: new Date(this.now()).toISOString(),
      state: "running",
      message: "starting",
    };
    const before = this.backfillView;
    this.backfillView = view;
    let opened: (run: { runId: string; joined: boolean }) => void = () => {};
    const runOpened = new Promise<{ runId: string; joined: boolean }>((resolve) => {
      opened = resolve;
    });
    const work = runBackfill(this.stores, {
      ...this.stores.backfillTuning,
      contract: this.stores.contractName,
      who,
      ...(start.entities === undefined ? {} : { entities: start.entities }),
      ...(start.rate === undefined ? {} : { rate: start.rate }),
      resume,
      signal: this.controller.signal,
      onRun: (run) => {
        view.runId = run.runId;
        view.message = `working on run ${run.runId}`;
        opened(run);
      },
    });
    const ended = work.then((result) => this.backfillEnded(view, result));
    this.worker = ended.catch((error: unknown) => this.backfillFailed(view, error));
    let run: { runId: string; joined: boolean };
    try {
      run = await Promise.race([runOpened, work.then(() => runOpened)]);
    } catch (error) {
      // Refused before it had a run: nothing was written, and the page shows the worker as it was.
      if (this.backfillView === view) this.backfillView = before;
      if (error instanceof BackfillError) throw new AdminError(409, "refused", `${errorText(error)}${hintOf(error)}`);
      throw error;
    }
    // A run started, stopped, resumed or ended is in the audit trail by the ledger itself (as from the CLI).
    return run;
  }

  /**
   * Puts a worker in this process on the open run, on the run's own entities and rate: resumes it when it was stopped
   * (`resumed`), joins it otherwise (a run whose workers died, or another console's).
   */
  async resumeBackfill(
    who: string,
    /**
     * The stop the operator saw (its `at`), or null when they saw the run running: a run stopped or resumed since
     * is refused (409), so that a click never undoes a stop the page did not show.
     */
    seen?: string | null,
  ): Promise<{ runId: string; joined: boolean; resumed: boolean }> {
    const open = await this.ledger().current();
    if (open === undefined) throw new AdminError(409, "no_run", "No backfill run is open: there is nothing to resume.");
    if (seen !== undefined && (open.stopped?.at ?? null) !== seen) {
      throw new AdminError(
        409,
        "changed",
        open.stopped === undefined
          ? `Backfill run ${open.id} was resumed since this page was shown; nothing was done.`
          : `Backfill run ${open.id} was stopped by ${open.stopped.who} at ${open.stopped.at} since this page was shown; nothing was done.`,
      );
    }
    const rate = open.options.rate;
    const run = await this.startBackfill(
      who,
      { entities: open.entities, ...(typeof rate === "number" ? { rate } : {}) },
      true,
    );
    const resumed = open.stopped !== undefined;
    // A resume is recorded by the ledger; a worker of the console joining a running run is the operator's act too.
    if (!resumed) {
      await this.note({ who, kind: "backfill", what: `backfill run ${run.runId}: a worker of the console joined it` });
    }
    return { ...run, resumed };
  }

  private ledger(): BackfillLedger {
    return new BackfillLedger(this.stores.client, { tablePrefix: this.stores.tablePrefix });
  }

  /** Stops the open run for every worker wherever it runs (the CLI's too): BackfillLedger.stop. */
  async stopBackfill(who: string): Promise<RunReport> {
    const ledger = this.ledger();
    const open = await ledger.current();
    if (open === undefined) throw new AdminError(409, "no_run", "No backfill run is open: there is nothing to stop.");
    let stopped: RunReport;
    try {
      stopped = await ledger.stop(open.id, who);
    } catch (error) {
      if (error instanceof BackfillRunClosed) throw new AdminError(409, "closed", errorText(error));
      throw error;
    }
    return stopped;
  }

  /** Starts a validation in this process; its report is kept in the control table as `ferry validate` keeps it. */
  async startValidation(who: string, start: ValidationStart): Promise<WorkView> {
    const options = this.checkOptions(start);
    const view = this.startCheck("validation", who, `validating ${entityList(start.entities)}`);
    await this.note({
      who,
      kind: "validation",
      what: `validation started (${entityList(start.entities)}${start.sample === undefined ? "" : `, sample ${start.sample}`})`,
    });
    const work = validate(this.stores, { contract: this.stores.contractName, who, ...options });
    this.finishCheck(
      view,
      work.then((outcome) => ({ id: outcome.report.id, message: summary(outcome.report) })),
    );
    return { ...view };
  }

  /**
   * Starts a repair in this process: a fresh validation of `start`'s entities, each difference re-synced from the
   * authoritative store, the repaired keys validated again (the runtime's repair, as `ferry validate --repair`).
   */
  async startRepair(who: string, start: ValidationStart): Promise<WorkView> {
    const options = this.checkOptions({ ...(start.entities === undefined ? {} : { entities: start.entities }) });
    try {
      repairTarget((await this.phases.get()).phase);
    } catch (error) {
      if (error instanceof ValidationError) throw new AdminError(409, "refused", errorText(error));
      throw error;
    }
    const view = this.startCheck("repair", who, `repairing ${entityList(start.entities)}`);
    await this.note({ who, kind: "repair", what: `repair started (${entityList(start.entities)})` });
    const work = repair(this.stores, { contract: this.stores.contractName, who, ...options }, { who });
    this.finishCheck(
      view,
      work.then((outcome) => {
        const done = outcome.repair;
        const fixed = done.created + done.updated + done.deleted + done.markersRestored + done.markersFreed;
        const after = outcome.after.report.clean
          ? "clean"
          : `${outcome.after.report.totals.differences} differences left`;
        return { id: outcome.report.id, message: `${fixed} repaired, ${done.failed} failed; after: ${after}` };
      }),
    );
    return { ...view };
  }

  /** The outbox drain this console runs or ran last. */
  drain(): WorkView | undefined {
    return this.drainView === undefined ? undefined : { ...this.drainView };
  }

  /** The outbox now: every store's waiting entries, as `ferry outbox status` shows them. */
  async outboxStatus(): Promise<OutboxStatus> {
    const { phase } = await this.phases.get();
    const outbox = this.outbox({ phase: () => phase });
    const metrics = await outbox.metrics();
    const stuck: Record<StoreName, OutboxEntry[]> = { dynamodb: [], mysql: [] };
    for (const store of ["dynamodb", "mysql"] as const) {
      if (metrics[store].stuck > 0) stuck[store] = await outbox.stuckEntries(store, STUCK_SHOWN);
    }
    return {
      phase,
      secondary: secondaryStore(phase),
      metrics,
      storage: { dynamodb: outbox.storageOf("dynamodb"), mysql: outbox.storageOf("mysql") },
      stuck,
    };
  }

  /**
   * Replays the waiting writes for the current phase's secondary store now (the runtime's drainNow, as `ferry outbox
   * drain`), in the background. This console joins the fleet while it drains, so a phase move waits for its replays.
   */
  async startDrain(who: string): Promise<WorkView> {
    this.open();
    if (this.drainView?.state === "running") {
      throw new AdminError(409, "busy", `A drain started by ${this.drainView.who} is still running here.`);
    }
    // Taken at once (a second click while the phase is read is busy), given back when refused.
    const before = this.drainView;
    const view: WorkView = {
      kind: "outbox",
      who,
      startedAt: new Date(this.now()).toISOString(),
      state: "running",
      message: "reading the phase",
    };
    this.drainView = view;
    let phase: Phase;
    try {
      ({ phase } = await this.phases.get());
    } catch (error) {
      this.drainView = before;
      throw error;
    }
    const target = secondaryStore(phase);
    if (target === undefined) {
      this.drainView = before;
      throw new AdminError(409, "refused", `Phase ${phase} writes one store only: there is nothing to replay to.`);
    }
    view.message = `replaying the waiting writes to ${target}`;
    await this.note({ who, kind: "outbox", what: `drain started (replays to ${target}, phase ${phase})` });
    const live = new CachedPhase(this.phases, {
      app: "ferry-admin",
      onError: (error) => this.log("the drain could not read the phase", error),
    });
    const work = (async () => {
      await live.start();
      try {
        return await drainNow(this.outbox(live), live, { signal: this.controller.signal });
      } finally {
        await live.stop();
      }
    })();
    this.draining = this.track(
      work.then(
        async (result) => {
          view.state = result.left === 0 ? "done" : result.aborted ? "stopped" : "failed";
          view.message =
            `replayed ${result.synced} to ${result.target}; ${result.left} left` +
            (result.phaseMoved ? " (the phase moved: it stopped)" : "") +
            (result.aborted ? " (this console closed: the app's outbox loop replays the rest)" : "") +
            (result.left > 0 ? `; ${result.failed} replays failed, their entries stay with their errors` : "");
          view.endedAt = new Date(this.now()).toISOString();
          await this.note({ who, kind: "outbox", what: `drain done: ${view.message}` });
        },
        async (error: unknown) => {
          view.state = "failed";
          view.message = errorText(error);
          view.endedAt = new Date(this.now()).toISOString();
          this.log("the drain failed", error);
          await this.note({ who, kind: "outbox", what: `drain failed: ${view.message}` });
        },
      ),
    );
    return { ...view };
  }

  private outbox(phase: PhaseSource): Outbox {
    const { codec, mysql, client, tablePrefix } = this.stores;
    return new Outbox({
      phase,
      codec,
      mysql: new MysqlEntityStore(mysql, codec),
      dynamodb: new DynamoEntityStore(client, codec, { tablePrefix }),
      mysqlConnection: mysql,
      controlTable: { client, tablePrefix },
      log: (message, error) => this.log(message, error),
    });
  }

  /**
   * Stops this console's backfill worker (it gives its segment back after the page under way; the run stays open) and
   * waits for it, and for a drain to end its pass. A validation or repair under way is not waited for: its work is
   * safe to lose (a validation not recorded, a repair of a key that a later one redoes), and a shutdown must not wait
   * for a full scan.
   * Nothing new starts once it is called.
   */
  async close(): Promise<void> {
    this.controller.abort();
    // The drain stops before its next pass and leaves the fleet (its heartbeat deleted) before the clients go.
    await Promise.all([this.worker, this.draining.catch(() => {})]);
  }

  /** Refuses new work once the console is closing. */
  private open(): void {
    if (this.controller.signal.aborted) throw new AdminError(503, "closing", "This console is shutting down.");
  }

  private checkOptions(start: ValidationStart) {
    try {
      return checkValidateOptions(this.stores.codec, start);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const field = /sample/.test(error.message) ? "sample" : "entities";
      throw new AdminError(400, "invalid", error.message, { [field]: error.message });
    }
  }

  private startCheck(kind: "validation" | "repair", who: string, message: string): WorkView {
    this.open();
    if (this.checkView?.state === "running") {
      throw new AdminError(
        409,
        "busy",
        `A ${this.checkView.kind} started by ${this.checkView.who} is still running here.`,
      );
    }
    const view: WorkView = { kind, who, startedAt: new Date(this.now()).toISOString(), state: "running", message };
    this.checkView = view;
    return view;
  }

  /** Keeps `work`'s end in `view` and the audit trail: its report's id and one line on what it found or did. */
  private finishCheck(view: WorkView, work: Promise<{ id: string; message: string }>): void {
    this.track(
      work.then(
        async (report) => {
          view.state = "done";
          view.reportId = report.id;
          view.message = `report ${report.id}: ${report.message}`;
          view.endedAt = new Date(this.now()).toISOString();
          await this.note({ who: view.who, kind: view.kind, what: `${view.kind} done: ${view.message}` });
        },
        async (error: unknown) => {
          view.state = "failed";
          view.message = errorText(error);
          view.endedAt = new Date(this.now()).toISOString();
          if (!(error instanceof ValidationError)) this.log(`the ${view.kind} failed`, error);
          await this.note({ who: view.who, kind: view.kind, what: `${view.kind} failed: ${view.message}` });
        },
      ),
    );
  }

  private backfillEnded(view: WorkView, result: BackfillResult): void {
    view.endedAt = new Date(this.now()).toISOString();
    if (result.stopped !== undefined) {
      view.state = "stopped";
      view.message = `stopped by ${result.stopped.who}: run ${result.runId} stays open (this worker wrote ${result.written} rows)`;
    } else if (result.report.state === "running" && this.controller.signal.aborted) {
      view.state = "stopped";
      view.message = `stopped as this console closed: run ${result.runId} stays open (this worker wrote ${result.written} rows)`;
    } else if (result.report.state === "running") {
      view.state = "done";
      view.message = `this worker's share is done (${result.written} rows written); run ${result.runId} waits for its other workers`;
    } else {
      view.state = "done";
      view.message = `run ${result.runId} ${result.report.state}: this worker wrote ${result.written} rows`;
    }
  }

  private backfillFailed(view: WorkView, error: unknown): void {
    view.state = "failed";
    view.endedAt = new Date(this.now()).toISOString();
    view.message = `${errorText(error)}${hintOf(error)}`;
    if (!(error instanceof BackfillError)) this.log("the backfill worker stopped on an error", error);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    work.then(
      () => this.running.delete(work),
      () => this.running.delete(work),
    );
    return work;
  }
}

function hintOf(error: unknown): string {
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === "string" && hint !== "" ? ` (${hint})` : "";
}

function summary(report: ValidationReport): string {
  const t = report.totals;
  return report.clean
    ? `clean: ${t.matched} matched`
    : `${t.differences} ${t.differences === 1 ? "difference" : "differences"} (${t.missing} missing, ${t.extra} extra, ${t.mismatched} mismatched)`;
}

/** The console's work on the stores, or the 503 saying it was started without them (stores.ts needStores). */
export function needWork(work: ConsoleWork | undefined): ConsoleWork {
  needStores(work === undefined ? undefined : work.stores);
  return work as ConsoleWork;
}

/** The names a form (one value or several) or a JSON body (a list) gave; undefined when none. */
function names(value: unknown, field: string): string[] | undefined {
  const list = value === undefined || value === null || value === "" ? [] : Array.isArray(value) ? value : [value];
  if (list.some((name) => typeof name !== "string")) {
    throw new AdminError(400, "invalid", "Entities are names.", { [field]: "Entities are names." });
  }
  const chosen = (list as string[]).map((name) => name.trim()).filter((name) => name !== "");
  return chosen.length === 0 ? undefined : [...new Set(chosen)];
}

/** The entity names a form sent (ticked boxes), as typed, to show them ticked again next to a refusal. */
export function tickedEntities(body: Record<string, unknown>): string[] {
  return ([] as unknown[]).concat(body.entities ?? []).filter((name): name is string => typeof name === "string");
}

/** A number typed in a form (a string) or sent as JSON (a number); undefined when left empty. */
function typedNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

/** A backfill start from a form or JSON: the entities ticked and an optional rate (a whole number from 1). */
export function readBackfillStart(body: Record<string, unknown>): BackfillStart {
  const entities = names(body.entities, "entities");
  const rate = typedNumber(body.rate);
  if (rate !== undefined && !(Number.isSafeInteger(rate) && rate >= 1 && rate <= 10_000_000)) {
    const message = "The rate is a whole number of items per second, from 1 to 10,000,000.";
    throw new AdminError(400, "invalid", message, { rate: message });
  }
  return { ...(entities === undefined ? {} : { entities }), ...(rate === undefined ? {} : { rate }) };
}

/** A validation (or repair) start from a form or JSON: the entities ticked and an optional sample (0 < R <= 1). */
export function readValidationStart(body: Record<string, unknown>): ValidationStart {
  const entities = names(body.entities, "entities");
  const sample = typedNumber(body.sample);
  if (sample !== undefined && !(sample > 0 && sample <= 1)) {
    const message = "The sample is a fraction of the rows: more than 0 and at most 1 (e.g. 0.1).";
    throw new AdminError(400, "invalid", message, { sample: message });
  }
  return { ...(entities === undefined ? {} : { entities }), ...(sample === undefined ? {} : { sample }) };
}
