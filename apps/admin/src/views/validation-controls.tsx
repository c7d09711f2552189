/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Running a validation or a repair from the console: the forms (operators only) and the one under way. */
import type { Operator } from "@ferry/runtime";
import type { WorkView } from "../console-work.ts";
import { utcTime } from "./layout.tsx";

const reportHref = (id: string) => `/validation/${encodeURIComponent(id)}`;

/** A message after a form, and what was typed (shown again next to the fields). */
export interface CheckFlash {
  kind: "ok" | "bad";
  message: string;
  fields?: Record<string, string>;
  typed?: { entities: string[]; sample: string };
}

function EntityChecks(props: { entities: readonly string[]; chosen: ReadonlySet<string>; prefix: string }) {
  return (
    <fieldset>
      <legend>Entities (none ticked: every entity)</legend>
      {props.entities.map((entity) => (
        <span class="check">
          <input
            type="checkbox"
            id={`${props.prefix}-${entity}`}
            name="entities"
            value={entity}
            checked={props.chosen.has(entity)}
          />
          <label for={`${props.prefix}-${entity}`}>{entity}</label>
        </span>
      ))}
    </fieldset>
  );
}

export function CheckControls(props: {
  operator: Operator;
  check?: WorkView | undefined;
  /** The contract's entities; absent when the console was started without the stores. */
  entities?: readonly string[] | undefined;
  flash?: CheckFlash | undefined;
}) {
  const { check, entities, flash } = props;
  const fields = flash?.fields ?? {};
  const chosen = new Set(flash?.typed?.entities ?? []);
  const running = check?.state === "running";
  return (
    <section class="card" aria-label="run a validation">
      <h2>Validate from here</h2>
      {flash ? <div class={`notice ${flash.kind}`}>{flash.message}</div> : null}
      {check ? (
        <p data-check={check.state} {...(running ? { "data-reload-in": "2000" } : {})}>
          Last {check.kind} started here: <strong class={check.state === "failed" ? "unmet" : ""}>{check.state}</strong>{" "}
          · {utcTime(check.startedAt)} by {check.who} · {check.message}
          {check.reportId ? (
            <>
              {" "}
              · <a href={reportHref(check.reportId)}>open the report</a>
            </>
          ) : null}
          {running ? <span class="muted"> (this page reloads until it ends)</span> : null}
        </p>
      ) : null}
      {entities === undefined ? (
        <p class="muted">
          This console was started without the app's stores; run <code>pnpm ferry validate</code> instead.
        </p>
      ) : props.operator.role !== "operator" ? (
        <p class="muted">Running a validation or a repair needs the operator role.</p>
      ) : (
        <form method="post" action="/validation/run">
          <EntityChecks entities={entities} chosen={chosen} prefix="validate" />
          {fields.entities ? <div class="field-error">{fields.entities}</div> : null}
          <label for="sample">Sample: the fraction of rows to check (optional, e.g. 0.1; empty: every row)</label>
          <input id="sample" name="sample" inputmode="decimal" value={flash?.typed?.sample ?? ""} />
          {fields.sample ? <div class="field-error">{fields.sample}</div> : null}
          <p class="muted">
            A repair validates the entities ticked again, copies each difference from the authoritative store, and
            validates the repaired keys once more; its report shows what it did.
          </p>
          <div class="buttons">
            <button type="submit" class="primary" disabled={running}>
              Run a validation
            </button>
            <button type="submit" class="primary danger" formaction="/validation/repair" disabled={running}>
              Repair and validate again
            </button>
          </div>
        </form>
      )}
      <script src="/assets/admin.js" defer />
    </section>
  );
}

/** On a report with differences: repair its entities (operators only). */
export function RepairForm(props: { operator: Operator; entities: readonly string[]; clean: boolean }) {
  if (props.operator.role !== "operator" || props.clean) return null;
  return (
    <section class="card" aria-label="repair these">
      <form method="post" action="/validation/repair">
        {props.entities.map((entity) => (
          <input type="hidden" name="entities" value={entity} />
        ))}
        <p class="muted">
          A repair validates these entities again, copies each difference from the authoritative store, and validates
          the repaired keys once more.
        </p>
        <button type="submit" class="primary danger">
          Repair {props.entities.join(", ")} and validate again
        </button>
      </form>
    </section>
  );
}
