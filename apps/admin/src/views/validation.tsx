/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The validation reports: the history, and one report with its per-entity counts and field-level differences. */
import { type Difference, decodeKey, type Operator, type ValidationReport } from "@ferry/runtime";
import type { Child } from "hono/jsx";
import { inspectHref } from "./inspect.tsx";
import { Layout, utcTime } from "./layout.tsx";

/** A report's page (its id has `#` and `:`, so it is always encoded). */
export function reportHref(id: string): string {
  return `/validation/${encodeURIComponent(id)}`;
}

function Verdict(props: { report: ValidationReport }) {
  const { report } = props;
  return (
    <span class={report.clean ? "met" : "unmet"}>
      {report.clean ? "clean" : `${report.totals.differences} difference${report.totals.differences === 1 ? "" : "s"}`}
    </span>
  );
}

export function ValidationListPage(props: {
  operator: Operator;
  reports: readonly ValidationReport[];
  cursor?: string | undefined;
  /** What the console can start here (validation-controls.tsx). */
  controls?: Child;
}) {
  return (
    <Layout title="Validation" operator={props.operator}>
      <h1>Validation reports</h1>
      {props.controls ?? null}
      <p class="muted">
        Each report compares MySQL and DynamoDB row by row and item by item (<code>ferry validate</code>). A clean, full
        one is what the 3 -&gt; 4 move needs.
      </p>
      <section class="card" aria-label="reports">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Scope</th>
              <th>Rows</th>
              <th>Result</th>
              <th>Repair</th>
            </tr>
          </thead>
          <tbody>
            {props.reports.map((report) => (
              <tr>
                <td>
                  <a href={reportHref(report.id)}>{utcTime(report.at)}</a>
                </td>
                <td>{report.who}</td>
                <td>{report.full ? "full" : report.sample < 1 ? `sample ${report.sample}` : "some entities"}</td>
                <td>{report.totals.rows}</td>
                <td>
                  <Verdict report={report} />
                </td>
                <td>
                  {report.repair
                    ? `${report.repair.created + report.repair.updated + report.repair.deleted} changed, ${report.repair.left} left`
                    : ""}
                </td>
              </tr>
            ))}
            {props.reports.length === 0 ? (
              <tr>
                <td colspan={6} class="muted">
                  No validation yet: run <code>pnpm ferry validate --contract contract/store.yaml</code>.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {props.cursor ? (
          <p>
            <a href={`/validation?cursor=${encodeURIComponent(props.cursor)}`}>Older reports →</a>
          </p>
        ) : null}
      </section>
    </Layout>
  );
}

/** The record inspector's page for a difference's key (encodeKey's JSON of its identity), when it is one. */
function differenceHref(difference: Difference): string | undefined {
  const { key } = difference;
  // An orphan marker has no record of its own: its key is the table key of the item it names, which is not there.
  if (difference.kind === "orphan-marker") return undefined;
  if (key === null || typeof key !== "object" || Array.isArray(key)) return undefined;
  return inspectHref(difference.entity, decodeKey(JSON.stringify(key)));
}

function DifferenceCard(props: { difference: Difference }) {
  const { difference } = props;
  const href = differenceHref(difference);
  return (
    <div class="difference">
      <div>
        <strong>{difference.kind}</strong> · {difference.entity} <code>{JSON.stringify(difference.key)}</code>
        {href ? (
          <>
            {" "}
            · <a href={href}>inspect</a>
          </>
        ) : null}
        {difference.rule ? (
          <span class="muted">
            {" "}
            · rule {difference.rule} {difference.marker ? `(${difference.marker})` : ""}
          </span>
        ) : null}
      </div>
      {difference.reason ? <div class="muted">{difference.reason}</div> : null}
      {difference.fields.length > 0 ? (
        <table class="diff">
          <thead>
            <tr>
              <th>Field</th>
              <th>MySQL</th>
              <th>DynamoDB</th>
            </tr>
          </thead>
          <tbody>
            {difference.fields.map((field) => (
              <tr class={field.mysql === field.dynamodb ? "" : "differs"}>
                <td>{field.field}</td>
                <td>{field.mysql === null ? <em class="muted">absent</em> : field.mysql}</td>
                <td>{field.dynamodb === null ? <em class="muted">absent</em> : field.dynamodb}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function ValidationReportPage(props: { operator: Operator; report: ValidationReport; actions?: Child }) {
  const { report } = props;
  return (
    <Layout title="Validation report" operator={props.operator}>
      <h1>Validation of {utcTime(report.at)}</h1>
      {props.actions ?? null}
      <section class="card" aria-label="summary">
        <div>
          <Verdict report={report} /> · by {report.who} · {report.contract} ·{" "}
          {report.full ? "full" : report.sample < 1 ? `a sample of ${report.sample}` : "some entities"} ·{" "}
          {Math.round(report.itemsPerSecond)} items/s · {(report.durationMs / 1000).toFixed(1)} s
        </div>
        {report.guardRail ? (
          <div class="muted">
            {report.guardRail.recorded
              ? "Recorded for the 3 -> 4 guard rail."
              : `Not recorded for the guard rail${report.guardRail.reason ? `: ${report.guardRail.reason}` : ""}.`}
          </div>
        ) : null}
      </section>
      <section class="card" aria-label="entities">
        <h2>Per entity</h2>
        <table>
          <thead>
            <tr>
              <th>Entity</th>
              <th>Rows</th>
              <th>Matched</th>
              <th>Missing</th>
              <th>Extra</th>
              <th>Mismatched</th>
              <th>Unreadable</th>
            </tr>
          </thead>
          <tbody>
            {report.entities.map((entity) => (
              <tr>
                <td>{entity.entity}</td>
                <td>{entity.rows}</td>
                <td>{entity.matched}</td>
                <td class={entity.missing > 0 ? "unmet" : ""}>{entity.missing}</td>
                <td class={entity.extra > 0 ? "unmet" : ""}>{entity.extra}</td>
                <td class={entity.mismatched > 0 ? "unmet" : ""}>{entity.mismatched}</td>
                <td class={entity.unreadable > 0 ? "unmet" : ""}>{entity.unreadable}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {report.entities.some((entity) => entity.differences.length > 0) ? (
        <section class="card" aria-label="differences">
          <h2>Differences</h2>
          {report.entities.flatMap((entity) =>
            entity.differences.map((difference) => <DifferenceCard difference={difference} />),
          )}
        </section>
      ) : null}
      {report.unclaimed && report.unclaimed.count > 0 ? (
        <section class="card" aria-label="unclaimed">
          <h2>Items no entity claims ({report.unclaimed.count})</h2>
          <ul>
            {report.unclaimed.items.map((item) => (
              <li>
                {item.table} <code>{JSON.stringify(item.key)}</code>: {item.reason}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {report.repair ? (
        <section class="card" aria-label="repair">
          <h2>Repair</h2>
          <p>
            {utcTime(report.repair.at)} by {report.repair.who}, in phase {report.repair.phase}, on{" "}
            {report.repair.target === "dynamodb" ? "DynamoDB" : "MySQL"}: {report.repair.created} created,{" "}
            {report.repair.updated} updated, {report.repair.deleted} deleted, {report.repair.failed} failed;{" "}
            {report.repair.left} difference{report.repair.left === 1 ? "" : "s"} left.
          </p>
        </section>
      ) : null}
      <p>
        <a href="/validation">All reports</a>
      </p>
    </Layout>
  );
}
