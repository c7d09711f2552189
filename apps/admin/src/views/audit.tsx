/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { AUDIT_KINDS, type AuditTrailEntry, type Operator } from "@ferry/runtime";
import { type AuditFilters, filterParams } from "../audit-console.ts";
import { Layout } from "./layout.tsx";

export function AuditPage(props: {
  operator: Operator;
  entries: readonly AuditTrailEntry[];
  filters: AuditFilters;
  cursor?: string | undefined;
  error?: { message: string; fields?: Record<string, string> | undefined } | undefined;
  /** What was typed into the filters (kept when they are refused). */
  typed: Record<string, string>;
}) {
  const { entries, filters, cursor, error, typed } = props;
  const fields = error?.fields ?? {};
  const params = filterParams(filters);
  const next = new URLSearchParams(params);
  if (cursor) next.set("cursor", cursor);
  return (
    <Layout title="Audit log" operator={props.operator}>
      <h1>Audit log</h1>
      <form class="card filters" method="get" action="/audit">
        <div>
          <label for="kind">Kind</label>
          <select id="kind" name="kind">
            <option value="">any</option>
            {AUDIT_KINDS.map((kind) => (
              <option value={kind} selected={typed.kind === kind}>
                {kind}
              </option>
            ))}
          </select>
          {fields.kind ? <div class="field-error">{fields.kind}</div> : null}
        </div>
        <div>
          <label for="who">Who</label>
          <input type="text" id="who" name="who" value={typed.who ?? ""} maxlength={64} />
          {fields.who ? <div class="field-error">{fields.who}</div> : null}
        </div>
        <div>
          <label for="from">From (UTC day)</label>
          <input type="date" id="from" name="from" value={typed.from ?? ""} />
          {fields.from ? <div class="field-error">{fields.from}</div> : null}
        </div>
        <div>
          <label for="to">To (UTC day)</label>
          <input type="date" id="to" name="to" value={typed.to ?? ""} />
          {fields.to ? <div class="field-error">{fields.to}</div> : null}
        </div>
        <div class="actions">
          <button class="primary" type="submit">
            Filter
          </button>
          <a href={`/audit.csv?${params.toString()}`}>Export as CSV</a>
        </div>
      </form>
      {error ? <div class="notice bad">{error.message}</div> : null}
      <section class="card" aria-label="entries">
        <table>
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>Who</th>
              <th>Kind</th>
              <th>What</th>
              <th>Before → after</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr>
                <td>{entry.at.replace("T", " ").slice(0, 19)}</td>
                <td>{entry.who}</td>
                <td>{entry.kind}</td>
                <td>
                  {entry.what}
                  {entry.reason ? <div class="muted">reason: {entry.reason}</div> : null}
                </td>
                <td>
                  {entry.before ? <div class="muted">{entry.before}</div> : null}
                  {entry.after ? <div>{entry.after}</div> : null}
                </td>
              </tr>
            ))}
            {entries.length === 0 ? (
              <tr>
                <td colspan={5} class="muted">
                  {cursor
                    ? "Nothing matches in this stretch of the log; older entries may."
                    : `Nothing recorded${params.size > 0 ? " that matches these filters" : " yet"}.`}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {cursor ? (
          <p>
            <a href={`/audit?${next.toString()}`}>Older entries →</a>
          </p>
        ) : null}
      </section>
    </Layout>
  );
}
