/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The validation reports' routes (the reports `ferry validate` keeps in the control table). */
import { ControlCursorError, getValidationReport, listValidationReports, type PhaseStore } from "@ferry/runtime";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { AdminError } from "../errors.ts";
import { ValidationListPage, ValidationReportPage } from "../views/validation.tsx";

export function validationRoutes(routes: AccessRoutes, phases: PhaseStore): void {
  const me = operatorOf;
  // Validation reports (ferry validate keeps them in the control table): the history, and one report's differences.
  const reports = async (cursor: string | undefined) => {
    try {
      return await listValidationReports(phases.client, phases.tablePrefix, {
        limit: 20,
        ...(cursor ? { cursor } : {}),
      });
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
    return found;
  };
  routes.get("/validation", "viewer", async (c) => {
    const page = await reports(c.req.query("cursor"));
    return c.html(<ValidationListPage operator={me(c)} reports={page.reports} cursor={page.cursor} />);
  });
  routes.get("/validation/:id", "viewer", async (c) =>
    c.html(<ValidationReportPage operator={me(c)} report={await report(c.req.param("id") ?? "")} />),
  );
  routes.get("/api/validation", "viewer", async (c) => c.json(await reports(c.req.query("cursor"))));
  routes.get("/api/validation/:id", "viewer", async (c) => c.json(await report(c.req.param("id") ?? "")));
}
