/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Operator } from "@ferry/runtime";
import type { MoveView, PhaseView } from "../phase-console.ts";
import { Layout } from "./layout.tsx";

export interface Flash {
  kind: "ok" | "bad";
  message: string;
  /** The move the message is about, and a message per field of its form. */
  to?: number;
  fields?: Record<string, string>;
  /** What was typed into that form (kept when it is shown again). */
  typed?: { reason?: string; force?: boolean };
}

const STORE = { mysql: "MySQL", dynamodb: "DynamoDB" } as const;

export function PhasePage(props: { view: PhaseView; operator: Operator; flash?: Flash | undefined; now: number }) {
  const { view, operator, flash } = props;
  return (
    <Layout title={`Phase ${view.phase}`} operator={operator}>
      <h1>Migration phase</h1>
      {flash && flash.to === undefined ? <div class={`notice ${flash.kind}`}>{flash.message}</div> : null}
      <div class="grid">
        <section class="card" aria-label="current phase">
          <div class="muted">Current phase</div>
          <div class="phase-number" data-testid="phase">
            {view.phase}
          </div>
          <div>
            <strong>{view.name}</strong>
          </div>
          <ul class="flags">
            {Object.entries(view.flags).map(([flag, on]) => (
              <li class={`flag ${on ? "on" : "off"}`}>
                {flag} {on ? "on" : "off"}
              </li>
            ))}
          </ul>
          <div>
            Authoritative: <strong>{STORE[view.authoritative]}</strong>
          </div>
          <div class="muted">
            Version {view.version}
            {view.updatedAt
              ? ` · last changed ${view.updatedAt.replace("T", " ").slice(0, 19)} UTC by ${view.updatedBy ?? "?"}`
              : " · never changed"}
          </div>
          {view.pending ? (
            <div class="notice warn">
              Move to phase {view.pending.to} announced by {view.pending.by}: processes hold new writes until{" "}
              {view.pending.deadline}.
            </div>
          ) : null}
        </section>
        {view.moves.length === 0 ? (
          <section class="card">
            <h2>No moves</h2>
            <p>Phase 5 is final: MySQL is no longer written, so nothing leaves it.</p>
          </section>
        ) : (
          view.moves.map((move) => (
            <MoveCard move={move} view={view} operator={operator} flash={flash?.to === move.to ? flash : undefined} />
          ))
        )}
      </div>
      <FleetCard view={view} now={props.now} />
    </Layout>
  );
}

function MoveCard(props: { move: MoveView; view: PhaseView; operator: Operator; flash?: Flash | undefined }) {
  const { move, view, operator, flash } = props;
  const acts = operator.role === "operator";
  const fields = flash?.fields ?? {};
  return (
    <section class="card" aria-label={`move to phase ${move.to}`}>
      <h2>
        {move.direction === "forward" ? "Move on" : "Move back"} to phase {move.to}
      </h2>
      {flash ? <div class={`notice ${flash.kind}`}>{flash.message}</div> : null}
      <ul class="checks">
        {move.preconditions.length === 0 ? <li class="muted">No preconditions.</li> : null}
        {move.preconditions.map((check) => (
          <li class={check.met ? "met" : "unmet"}>
            {check.met ? "✓" : "✗"} <strong>{check.name}</strong>: {check.reason}
          </li>
        ))}
      </ul>
      {acts ? (
        <form method="post" action="/phase">
          <input type="hidden" name="to" value={String(move.to)} />
          <input type="hidden" name="version" value={String(view.version)} />
          {move.ready ? null : (
            <label>
              <input type="checkbox" name="force" checked={flash?.typed?.force === true} /> Force it (skips the
              preconditions; audited)
            </label>
          )}
          <label for={`reason-${move.to}`}>Reason {move.ready ? "(optional)" : "(required to force)"}</label>
          <input
            type="text"
            id={`reason-${move.to}`}
            name="reason"
            value={flash?.typed?.reason ?? ""}
            maxlength={500}
          />
          {fields.reason ? <div class="field-error">{fields.reason}</div> : null}
          {move.typeToConfirm ? (
            <>
              <label for="confirm-5">Type 5 to confirm: MySQL stops being written, and there is no way back</label>
              <input type="text" id="confirm-5" name="confirmPhase" inputmode="numeric" autocomplete="off" />
              {fields.confirmPhase ? <div class="field-error">{fields.confirmPhase}</div> : null}
            </>
          ) : null}
          <div>
            <button class={`primary${move.typeToConfirm ? " danger" : ""}`} type="submit">
              Move to phase {move.to}
            </button>
          </div>
        </form>
      ) : (
        <p class="muted">Your account is a viewer: an operator makes the move.</p>
      )}
    </section>
  );
}

function FleetCard(props: { view: PhaseView; now: number }) {
  const { fleet } = props.view;
  const ago = (iso: string) => `${Math.max(0, Math.round((props.now - Date.parse(iso)) / 1000))} s ago`;
  return (
    <section class="card" aria-label="fleet">
      <h2>Fleet</h2>
      <p class="muted">
        {fleet.instances.length} live process{fleet.instances.length === 1 ? "" : "es"};{" "}
        {fleet.allCurrent ? "all run the current version" : "not all run the current version yet"}.
      </p>
      <table class="fleet">
        <thead>
          <tr>
            <th>Process</th>
            <th>Host</th>
            <th>App</th>
            <th>Runs</th>
            <th>Last heartbeat</th>
          </tr>
        </thead>
        <tbody>
          {fleet.instances.map((instance) => (
            <tr>
              <td>{instance.instanceId}</td>
              <td>{instance.host}</td>
              <td>{instance.app}</td>
              <td class={instance.current ? "met" : "unmet"}>
                phase {instance.phaseSeen ?? "?"}, version {instance.versionSeen}
                {instance.current ? "" : " (behind)"}
              </td>
              <td>{ago(instance.lastSeen)}</td>
            </tr>
          ))}
          {fleet.stale.map((instance) => (
            <tr>
              <td>{instance.instanceId}</td>
              <td>{instance.host}</td>
              <td>{instance.app}</td>
              <td>
                phase {instance.phaseSeen ?? "?"}, version {instance.versionSeen}
              </td>
              <td class="stale">
                {ago(instance.lastSeen)} (
                {fleet.silent.some((silent) => silent.instanceId === instance.instanceId)
                  ? `silent: may write until ${instance.writesUntil ?? "?"}`
                  : "stale"}
                )
              </td>
            </tr>
          ))}
          {fleet.instances.length + fleet.stale.length === 0 ? (
            <tr>
              <td colspan={5} class="muted">
                No process has reported yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
