/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The validation reports' routes (the reports `ferry validate` keeps in the control table). */
import {
  type Codec,
  ControlCursorError,
  getValidationReport,
  listValidationReports,
  type PhaseStore,
  shownReport,
} from "@ferry/runtime";
import type { Context } from "hono";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { type ConsoleWork, needWork, readValidationStart, tickedEntities } from "../console-work.ts";
import { AdminError } from "../errors.ts";
import type { AdminEnv } from "../session.ts";
import { ValidationListPage, ValidationReportPage } from "../views/validation.tsx";
import { CheckControls, type CheckFlash, RepairForm } from "../views/validation-controls.tsx";

export function validationRoutes(
  routes: AccessRoutes,
  phases: PhaseStore,
  work: ConsoleWork | undefined,
  codec: Codec | undefined,
  jsonBody: (c: Context) => Promise<Record<string, unknown>>,
): void {
  const entities = codec?.entities;
  const me = operatorOf;
  // Validation reports (ferry validate keeps them in the control table): the history, and one report's differences.
  const reports = async (cursor: string | undefined) => {
    try {
      const page = await listValidationReports(phases.client, phases.tablePrefix, {
        limit: 20,
        ...(cursor ? { cursor } : {}),
      });
      // Kept before an attribute was marked sensitive, their values show as tags now too.
      return codec === undefined ? page : { ...page, reports: page.reports.map((each) => shownReport(codec, each)) };
    } catch (error) {
      if (error instanceof ControlCursorError) {
        throw new AdminError(400, "bad_cursor", "This page link is no longer valid; start from the newest reports.");
      }
      throw error;
    }
  };
  const report = async (id: string) => {
    const found = id.length <= 100 ? await getValidationReport(phases.client, phases.tablePrefix, id) : undefined;
    if (found === undefined) throw new AdminError(404, "not_found", "There is no validation report with this id.");
    // Kept before an attribute was marked sensitive, its values show as tags now too.
    return codec === undefined ? found : shownReport(codec, found);
  };
  const listPage = async (c: Context<AdminEnv>, flash?: CheckFlash, status: 200 | 400 | 409 = 200) => {
    const page = await reports(c.req.query("cursor"));
    const controls = (
      <CheckControls
        operator={me(c)}
        check={work?.check()}
        entities={work === undefined ? undefined : entities}
        flash={flash}
      />
    );
    return c.html(
      <ValidationListPage operator={me(c)} reports={page.reports} cursor={page.cursor} controls={controls} />,
      status,
    );
  };
  const working = () => needWork(work);
  const SAID: Record<string, string> = {
    validation: "The validation started; its report appears below when it ends.",
    repair: "The repair started; its report appears below when it ends.",
  };
  routes.get("/validation", "viewer", async (c) => {
    const said = SAID[c.req.query("started") ?? ""];
    return listPage(c, said === undefined ? undefined : { kind: "ok", message: said });
  });
  routes.get("/validation/:id", "viewer", async (c) => {
    const found = await report(c.req.param("id") ?? "");
    const actions =
      work === undefined ? null : (
        <RepairForm operator={me(c)} entities={found.entities.map((entity) => entity.entity)} clean={found.clean} />
      );
    return c.html(<ValidationReportPage operator={me(c)} report={found} actions={actions} />);
  });
  routes.get("/api/validation", "viewer", async (c) =>
    c.json({ ...(await reports(c.req.query("cursor"))), running: work?.check() ?? null }),
  );
  const run = (c: Context<AdminEnv>, body: Record<string, unknown>) =>
    working().startValidation(me(c).name, readValidationStart(body));
  const fix = (c: Context<AdminEnv>, body: Record<string, unknown>) =>
    working().startRepair(me(c).name, readValidationStart(body));
  const formAction = (kind: "validation" | "repair", action: typeof run) => async (c: Context<AdminEnv>) => {
    const body = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
    try {
      await action(c, body);
    } catch (error) {
      if (!(error instanceof AdminError) || (error.status !== 400 && error.status !== 409)) throw error;
      const typed = {
        entities: tickedEntities(body),
        sample: typeof body.sample === "string" ? body.sample : "",
      };
      const flash: CheckFlash = {
        kind: "bad",
        message: error.message,
        ...(error.fields ? { fields: error.fields } : {}),
        typed,
      };
      return listPage(c, flash, error.status);
    }
    return c.redirect(`/validation?started=${kind}`, 303);
  };
  routes.post("/validation/run", "operator", formAction("validation", run));
  routes.post("/validation/repair", "operator", formAction("repair", fix));
  routes.post("/api/validation/run", "operator", async (c) => c.json(await run(c, await jsonBody(c)), 202));
  routes.post("/api/validation/repair", "operator", async (c) => c.json(await fix(c, await jsonBody(c)), 202));
  routes.get("/api/validation/:id", "viewer", async (c) => c.json(await report(c.req.param("id") ?? "")));
}
