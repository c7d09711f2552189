/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The backfill: the open run's live progress per entity, the runs before it, and a run's rejected rows. */
import type { Operator, RejectedRows, RunMinute, RunReport } from "@ferry/runtime";
import type { WorkView } from "../console-work.ts";
import { Layout, utcTime } from "./layout.tsx";

const percent = (done: number, of: number) => (of <= 0 ? 100 : Math.min(100, Math.round((done / of) * 100)));

/** A key as a person reads it: `id=3, sku=A-1` (a BIGINT as its digits, bytes as base64). */
export function keyText(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([name, value]) => {
      if (typeof value === "bigint") return `${name}=${value}`;
      if (value instanceof Uint8Array) return `${name}=${Buffer.from(value).toString("base64")}`;
      return `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`;
    })
    .join(", ");
}

export function runHref(id: string): string {
  return `/backfill/${encodeURIComponent(id)}`;
}

/** One run's per-entity progress (its rows carry data- names the page's script updates from the event stream). */
function Progress(props: { run: RunReport }) {
  const { run } = props;
  return (
    <table data-run={run.id}>
      <thead>
        <tr>
          <th>Entity</th>
          <th>Progress</th>
          <th>Written</th>
          <th>Skipped</th>
          <th>Rejected</th>
          <th>Segments</th>
          <th>Items/s</th>
        </tr>
      </thead>
      <tbody>
        {run.perEntity.map((entity) => (
          <tr data-entity={entity.entity}>
            <td>{entity.entity}</td>
            <td>
              <progress
                data-field="progress"
                max={100}
                value={percent(entity.written + entity.skipped + entity.rejected, entity.rowsEstimated)}
              />
            </td>
            <td data-field="written">{entity.written}</td>
            <td data-field="skipped">{entity.skipped}</td>
            <td data-field="rejected" class={entity.rejected > 0 ? "unmet" : ""}>
              {entity.rejected}
            </td>
            <td data-field="segments">
              {entity.segmentsDone}/{entity.segments}
            </td>
            <td data-field="itemsPerSecond">{Math.round(entity.itemsPerSecond)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The run minute by minute, from its first minute to its last (or now): rows written and skipped per second in each
 * minute, as the workers checkpointed them. A minute with nothing checkpointed is 0.
 */
function RunHistory(props: { run: RunReport; minutes: readonly RunMinute[]; now: number }) {
  const { run, minutes } = props;
  if (minutes.length === 0) return <p class="muted">No rows checkpointed yet.</p>;
  const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  const first = minuteOf(Date.parse(run.startedAt));
  const last = minuteOf(run.finishedAt === undefined ? props.now : Date.parse(run.finishedAt));
  const counted = new Map(minutes.map((minute) => [minute.minute, minute]));
  const every: number[] = [];
  for (let at = first; at <= last && every.length < 10_080; at += 60_000) every.push(at);
  const of = (ms: number) => counted.get(`${new Date(ms).toISOString().slice(0, 16)}Z`);
  const series = {
    at: every.map((ms) => ms / 1000),
    written: every.map((ms) => Math.round(((of(ms)?.written ?? 0) / 60) * 10) / 10),
    skipped: every.map((ms) => Math.round(((of(ms)?.skipped ?? 0) / 60) * 10) / 10),
  };
  return (
    <figure
      class="chart"
      data-run-history={JSON.stringify(series)}
      aria-label="rows written and skipped per second, minute by minute, over the whole run"
    />
  );
}

/** A message after a form, and what was typed (shown again next to the fields). */
export interface BackfillFlash {
  kind: "ok" | "bad";
  message: string;
  fields?: Record<string, string>;
  typed?: { entities: string[]; rate: string };
}

/** This console's worker, and the start / stop / resume forms (operators only). */
function Controls(props: {
  operator: Operator;
  current?: RunReport | undefined;
  worker?: WorkView | undefined;
  /** The contract's entities; absent when the console was started without the stores. */
  entities?: readonly string[] | undefined;
  flash?: BackfillFlash | undefined;
}) {
  const { current, worker, entities, flash } = props;
  const acts = props.operator.role === "operator";
  const fields = flash?.fields ?? {};
  const chosen = new Set(flash?.typed?.entities ?? []);
  return (
    <section class="card" aria-label="controls">
      <h2>Run it from here</h2>
      {flash ? <div class={`notice ${flash.kind}`}>{flash.message}</div> : null}
      {worker ? (
        <p data-worker={worker.state}>
          This console's worker: <strong class={worker.state === "failed" ? "unmet" : ""}>{worker.state}</strong> ·
          started {utcTime(worker.startedAt)} by {worker.who} · {worker.message}
        </p>
      ) : null}
      {entities === undefined ? (
        <p class="muted">This console was started without the app's stores; it shows runs but cannot start one.</p>
      ) : !acts ? (
        <p class="muted">Starting, stopping and resuming a run needs the operator role.</p>
      ) : current?.stopped ? (
        <form method="post" action="/backfill/resume">
          <input type="hidden" name="seen" value={current.stopped.at} />
          <p>
            Stopped by {current.stopped.who} at {utcTime(current.stopped.at)}. Resuming starts a worker in this console;
            workers elsewhere resume with <code>ferry backfill run --resume</code>.
          </p>
          <button type="submit" class="primary">
            Resume run {current.id}
          </button>
        </form>
      ) : current ? (
        <>
          <form method="post" action="/backfill/stop">
            <p>
              Stopping reaches every worker of the run, wherever it runs: each gives its segment back after the page
              under way. The run stays open with its checkpoints.
            </p>
            <button type="submit" class="primary danger">
              Stop run {current.id}
            </button>
          </form>
          {worker?.state === "running" ? null : (
            <form method="post" action="/backfill/resume">
              <input type="hidden" name="seen" value="none" />
              <p class="muted">
                A run whose workers have ended (a console restarted, a worker killed) goes on once a worker works on it.
              </p>
              <button type="submit" class="primary">
                Work on it from this console
              </button>
            </form>
          )}
        </>
      ) : (
        <form method="post" action="/backfill/start">
          <fieldset>
            <legend>Entities (none ticked: every entity)</legend>
            {entities.map((entity) => (
              <span class="check">
                <input
                  type="checkbox"
                  id={`entity-${entity}`}
                  name="entities"
                  value={entity}
                  checked={chosen.has(entity)}
                />
                <label for={`entity-${entity}`}>{entity}</label>
              </span>
            ))}
          </fieldset>
          {fields.entities ? <div class="field-error">{fields.entities}</div> : null}
          <label for="rate">At most this many items per second (optional)</label>
          <input id="rate" name="rate" inputmode="numeric" value={flash?.typed?.rate ?? ""} />
          {fields.rate ? <div class="field-error">{fields.rate}</div> : null}
          <div class="submit">
            <button type="submit" class="primary">
              Start a backfill
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

export function BackfillPage(props: {
  operator: Operator;
  current?: RunReport | undefined;
  /** The open run's minutes. */
  minutes?: readonly RunMinute[] | undefined;
  now: number;
  runs: readonly RunReport[];
  worker?: WorkView | undefined;
  entities?: readonly string[] | undefined;
  flash?: BackfillFlash | undefined;
}) {
  const { current, runs } = props;
  return (
    <Layout title="Backfill" operator={props.operator}>
      <h1>Backfill</h1>
      <Controls
        operator={props.operator}
        current={current}
        worker={props.worker}
        entities={props.entities}
        flash={props.flash}
      />
      <section class="card" aria-label="current run" data-live="/api/backfill/events">
        {current ? (
          <>
            <h2>
              Run {current.id} · <span data-field="state">{current.state}</span>
              {current.stopped ? <span class="unmet"> (stopped)</span> : null}
            </h2>
            <p class="muted">
              Started {utcTime(current.startedAt)} by {current.who} · {current.contract} ·{" "}
              <span data-field="total-rate">{Math.round(current.itemsPerSecond)}</span> items/s in all (updated live)
            </p>
            <Progress run={current} />
            <h3>Since this page opened, updated live (rows written per second)</h3>
            <figure class="chart" data-chart aria-label="items written per second" />
            <h3>The whole run, minute by minute</h3>
            <RunHistory run={current} minutes={props.minutes ?? []} now={props.now} />
          </>
        ) : (
          <p class="muted">
            No run is open. Start one above, or with <code>pnpm ferry backfill run --contract contract/store.yaml</code>
            ; it shows here as it goes.
          </p>
        )}
      </section>
      <section class="card" aria-label="runs">
        <h2>Runs</h2>
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Who</th>
              <th>State</th>
              <th>Written</th>
              <th>Rejected</th>
              <th>Items/s</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr>
                <td>
                  <a href={runHref(run.id)}>{utcTime(run.startedAt)}</a>
                </td>
                <td>{run.who}</td>
                <td class={run.state === "failed" ? "unmet" : run.state === "finished" ? "met" : ""}>{run.state}</td>
                <td>{run.written}</td>
                <td>{run.rejected}</td>
                <td>{Math.round(run.itemsPerSecond)}</td>
              </tr>
            ))}
            {runs.length === 0 ? (
              <tr>
                <td colspan={6} class="muted">
                  No backfill has run yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>
      <link rel="stylesheet" href="/assets/uplot.css" />
      <script src="/assets/uplot.js" defer />
      <script src="/assets/admin.js" defer />
    </Layout>
  );
}

export function RunPage(props: {
  operator: Operator;
  run: RunReport;
  rejected: RejectedRows;
  minutes: readonly RunMinute[];
  now: number;
}) {
  const { run, rejected } = props;
  return (
    <Layout title={`Backfill run ${run.id}`} operator={props.operator}>
      <h1>Backfill run {run.id}</h1>
      <section class="card" aria-label="run">
        <p>
          <strong class={run.state === "failed" ? "unmet" : run.state === "finished" ? "met" : ""}>{run.state}</strong>{" "}
          · started {utcTime(run.startedAt)} by {run.who}
          {run.finishedAt ? ` · ended ${utcTime(run.finishedAt)}` : ""} · {run.contract} ·{" "}
          {Math.round(run.itemsPerSecond)} items/s
        </p>
        {run.failure ? <div class="notice bad">{run.failure}</div> : null}
        <Progress run={run} />
        <h3>Minute by minute (rows written and skipped per second)</h3>
        <RunHistory run={run} minutes={props.minutes} now={props.now} />
      </section>
      <section class="card" aria-label="rejected rows">
        <h2>Rejected rows ({rejected.count})</h2>
        {rejected.count > rejected.rows.length ? (
          <p class="muted">The first {rejected.rows.length} are kept with their key and reason.</p>
        ) : null}
        <table>
          <thead>
            <tr>
              <th>Entity</th>
              <th>Key</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {rejected.rows.map((row) => (
              <tr>
                <td>{row.entity}</td>
                <td>
                  <code>{keyText(row.key)}</code>
                </td>
                <td>{row.reason}</td>
              </tr>
            ))}
            {rejected.rows.length === 0 ? (
              <tr>
                <td colspan={3} class="muted">
                  None.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>
      <p>
        <a href="/backfill">All runs</a>
      </p>
      <link rel="stylesheet" href="/assets/uplot.css" />
      <script src="/assets/uplot.js" defer />
      <script src="/assets/admin.js" defer />
    </Layout>
  );
}
