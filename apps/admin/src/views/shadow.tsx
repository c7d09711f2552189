/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Shadow reads: the counts of the current phase-3 period against the 3 -> 4 threshold, by the minute, and the mismatches. */
import type { Mismatch, Operator, ShadowCounts, ShadowMinute } from "@ferry/runtime";
import { Layout, utcTime } from "./layout.tsx";

const percent = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 4 : 2)}%`;

/** The record inspector's page for a mismatch's key (normalised text values, one URL parameter per key field). */
export function mismatchInspectHref(mismatch: Mismatch): string | undefined {
  const fields = Object.entries(mismatch.key);
  if (fields.length === 0 || fields.some(([, value]) => value === null)) return undefined;
  const query = new URLSearchParams([["entity", mismatch.entity], ...(fields as Array<[string, string]>)]);
  return `/inspect?${query.toString()}`;
}

export interface ShadowView {
  /** The 3 -> 4 move's shadow check as the guard rail finds it now (phase 3 only). */
  check?: { met: boolean; reason: string } | undefined;
  counts: ShadowCounts;
  threshold: number;
  minComparisons: number;
  phase: number;
  minutes: ShadowMinute[];
  /** The minutes the chart spans, up to `until` (epoch ms). */
  span: number;
  until: number;
  mismatches: Mismatch[];
  cursor?: string | undefined;
  entity?: string | undefined;
}

export function ShadowPage(props: { operator: Operator; view: ShadowView }) {
  const { view } = props;
  const { counts } = view;
  const rate = counts.comparisons > 0 ? counts.mismatches / counts.comparisons : 0;
  const below = view.check?.met === true;
  // The chart's series, every minute of the span oldest first (a minute with nothing counted is 0): epoch seconds,
  // comparisons, the mismatch rate (%), errors and timeouts, and the threshold (%).
  const counted = new Map(view.minutes.map((minute) => [minute.minute, minute]));
  const last = Math.floor(view.until / 60_000) * 60_000;
  const every = Array.from({ length: view.span }, (_, i) => last - (view.span - 1 - i) * 60_000);
  const at = (ms: number) => counted.get(`${new Date(ms).toISOString().slice(0, 16)}Z`);
  const series = {
    at: every.map((ms) => ms / 1000),
    comparisons: every.map((ms) => at(ms)?.comparisons ?? 0),
    rate: every.map((ms) => {
      const minute = at(ms);
      return minute !== undefined && minute.comparisons > 0 ? (minute.mismatches / minute.comparisons) * 100 : 0;
    }),
    errors: every.map((ms) => (at(ms)?.errors ?? 0) + (at(ms)?.timeouts ?? 0)),
    threshold: view.threshold * 100,
  };
  return (
    <Layout title="Shadow reads" operator={props.operator}>
      <h1>Shadow reads</h1>
      <section class="card" aria-label="counts">
        <h2>
          Since {counts.since ? utcTime(counts.since) : "the counters began"} (phase {view.phase})
        </h2>
        <table>
          <thead>
            <tr>
              <th>Comparisons</th>
              <th>Mismatches</th>
              <th>Mismatch rate</th>
              <th>3 -&gt; 4 threshold</th>
              <th>Errors</th>
              <th>Timeouts</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td data-field="comparisons">{counts.comparisons}</td>
              <td data-field="mismatches" class={counts.mismatches > 0 ? "unmet" : ""}>
                {counts.mismatches}
              </td>
              <td data-field="rate" class={view.check === undefined ? "" : below ? "met" : "unmet"}>
                {percent(rate)}
              </td>
              <td>
                below {percent(view.threshold)}, over at least {view.minComparisons} comparisons
              </td>
              <td class={counts.errors > 0 ? "unmet" : ""}>{counts.errors}</td>
              <td class={counts.timeouts > 0 ? "unmet" : ""}>{counts.timeouts}</td>
            </tr>
          </tbody>
        </table>
        <p class={view.check === undefined ? "muted" : view.check.met ? "met" : "unmet"} data-check-met={String(below)}>
          {view.check === undefined
            ? `The 3 -> 4 move's shadow check applies in phase 3 (its counters start afresh on entering it); the phase is ${view.phase}.`
            : `The 3 -> 4 move's shadow check is ${view.check.met ? "met" : "not met"}: ${view.check.reason}.`}
        </p>
        <p class="muted">
          Errors and timeouts are shadow reads that gave no result to compare; they never touch what the app served.
        </p>
      </section>
      <section class="card" aria-label="by the minute">
        <h2>The last {view.span} minutes</h2>
        {view.minutes.length === 0 ? (
          <p class="muted">No shadow read was counted in these minutes (the store shadows reads in phase 3).</p>
        ) : (
          <figure
            class="chart"
            data-shadow-chart={JSON.stringify(series)}
            aria-label="comparisons per minute and the mismatch rate against the threshold"
          />
        )}
        <p class="muted">
          Per minute: comparisons (left axis), the mismatch rate in % (right axis) and the threshold; errors and
          timeouts together.{" "}
          {[60, 360, 1440].map((span) => (
            <>
              {" "}
              <a href={`/shadow?minutes=${span}`}>{span < 120 ? `${span} min` : `${span / 60} h`}</a>
            </>
          ))}
        </p>
      </section>
      <section class="card" aria-label="mismatches">
        <h2>Latest mismatches{view.entity ? ` of ${view.entity}` : ""}</h2>
        {view.mismatches.length === 0 ? <p class="muted">None recorded.</p> : null}
        {view.mismatches.map((mismatch) => {
          const href = mismatchInspectHref(mismatch);
          return (
            <div class="difference" data-mismatch={mismatch.id}>
              <div>
                <strong>{mismatch.entity}</strong>{" "}
                <code>
                  {Object.entries(mismatch.key)
                    .map(([name, value]) => `${name}=${value ?? "NULL"}`)
                    .join(", ")}
                </code>{" "}
                · {utcTime(mismatch.at)} · served by {mismatch.servedBy}, shadow from {mismatch.shadowFrom} · request{" "}
                <code>{mismatch.correlationId}</code>
                {href ? (
                  <>
                    {" "}
                    · <a href={href}>inspect</a>
                  </>
                ) : null}
              </div>
              <table class="diff">
                <thead>
                  <tr>
                    <th>Field</th>
                    <th>Served ({mismatch.servedBy})</th>
                    <th>Shadow ({mismatch.shadowFrom})</th>
                  </tr>
                </thead>
                <tbody>
                  {mismatch.fields.map((field) => (
                    <tr class="differs">
                      <td>{field.field}</td>
                      <td>{field.served ?? "NULL"}</td>
                      <td>{field.shadow ?? "NULL"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        })}
        {view.cursor ? (
          <p>
            <a
              href={`/shadow?${new URLSearchParams({ cursor: view.cursor, ...(view.entity ? { entity: view.entity } : {}) }).toString()}`}
            >
              Older mismatches
            </a>
          </p>
        ) : null}
      </section>
      <link rel="stylesheet" href="/assets/uplot.css" />
      <script src="/assets/uplot.js" defer />
      <script src="/assets/admin.js" defer />
    </Layout>
  );
}
