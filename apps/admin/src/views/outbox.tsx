/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The outbox: what waits for each store, how old, the stuck entries, and "Drain now". */
import type { Operator, StoreName } from "@ferry/runtime";
import type { OutboxStatus, WorkView } from "../console-work.ts";
import { keyText } from "./backfill.tsx";
import { inspectHref } from "./inspect.tsx";
import { Layout, utcTime } from "./layout.tsx";

const STORES: readonly StoreName[] = ["dynamodb", "mysql"];
const NAMES: Record<StoreName, string> = { dynamodb: "DynamoDB", mysql: "MySQL" };

function age(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function OutboxPage(props: {
  operator: Operator;
  /** Absent when the console was started without the stores. */
  status?: OutboxStatus | undefined;
  drain?: WorkView | undefined;
  flash?: { kind: "ok" | "bad"; message: string } | undefined;
}) {
  const { status, drain, flash } = props;
  const running = drain?.state === "running";
  return (
    <Layout title="Outbox" operator={props.operator}>
      <h1>Outbox</h1>
      <p class="muted">
        A write the secondary store missed waits here until it is replayed from the authoritative store (the app's
        outbox loop does it on its own; "Drain now" does it at once).
      </p>
      {flash ? <div class={`notice ${flash.kind}`}>{flash.message}</div> : null}
      {status === undefined ? (
        <section class="card">
          <p class="muted">
            This console was started without the app's stores; run <code>pnpm ferry outbox status</code> instead.
          </p>
        </section>
      ) : (
        <>
          <section class="card" aria-label="waiting writes">
            <h2>
              Phase {status.phase}:{" "}
              {status.secondary === undefined
                ? "one store is written, nothing is replayed"
                : `replays go to ${NAMES[status.secondary]}`}
            </h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>For</th>
                    <th>Waiting</th>
                    <th>Oldest</th>
                    <th>In flight</th>
                    <th>In memory only</th>
                    <th>Stuck</th>
                    <th>Stranded</th>
                    <th>Kept in</th>
                  </tr>
                </thead>
                <tbody>
                  {STORES.map((store) => {
                    const m = status.metrics[store];
                    return (
                      <tr data-store={store}>
                        <td>{NAMES[store]}</td>
                        <td data-field="depth" class={m.depth > 0 ? "unmet" : "met"}>
                          {m.depth}
                        </td>
                        <td>{m.depth > 0 ? age(m.oldestAgeSeconds) : "-"}</td>
                        <td>{m.inFlight}</td>
                        <td class={m.unpersisted > 0 ? "unmet" : ""}>{m.unpersisted}</td>
                        <td class={m.stuck > 0 ? "unmet" : ""}>{m.stuck}</td>
                        <td class={m.stranded > 0 ? "unmet" : ""}>{m.stranded}</td>
                        <td>
                          {m.readable === 1 ? status.storage[store] : `${status.storage[store]} (cannot be read now)`}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </section>
          <section class="card" aria-label="drain">
            <h2>Drain now</h2>
            {drain ? (
              <p data-drain={drain.state} {...(running ? { "data-reload-in": "1000" } : {})}>
                Last drain started here: <strong class={drain.state === "failed" ? "unmet" : ""}>{drain.state}</strong>{" "}
                · {utcTime(drain.startedAt)} by {drain.who} · {drain.message}
              </p>
            ) : null}
            {props.operator.role !== "operator" ? (
              <p class="muted">Draining needs the operator role.</p>
            ) : status.secondary === undefined ? (
              <p class="muted">Phase {status.phase} writes one store only: there is nothing to replay to.</p>
            ) : (
              <form method="post" action="/outbox/drain">
                <p class="muted">
                  Replays every waiting write for {NAMES[status.secondary]} now, due or not, each key copied from the
                  authoritative store as it is now.
                </p>
                <button type="submit" class="primary" disabled={running}>
                  Drain now
                </button>
              </form>
            )}
            <script src="/assets/admin.js" defer />
          </section>
          {STORES.filter((store) => status.stuck[store].length > 0).map((store) => (
            <section class="card" aria-label={`stuck for ${store}`}>
              <h2>
                Stuck for {NAMES[store]} ({status.metrics[store].stuck})
              </h2>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th>Entity</th>
                      <th>Key</th>
                      <th>Attempts</th>
                      <th>Stuck since</th>
                      <th>Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {status.stuck[store].map((entry) => (
                      <tr>
                        <td>{entry.entity}</td>
                        <td>
                          <a href={inspectHref(entry.entity, entry.key)}>
                            <code>{keyText(entry.key)}</code>
                          </a>
                        </td>
                        <td>{entry.attempts}</td>
                        <td>
                          {entry.stuckSince === undefined ? "-" : utcTime(new Date(entry.stuckSince).toISOString())}
                        </td>
                        <td>{entry.lastError ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))}
        </>
      )}
    </Layout>
  );
}
