/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The audit log's routes: the page, its JSON and the CSV export (the trail is the runtime's AuditTrail). */
import { type AuditTrail, ControlCursorError } from "@ferry/runtime";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { auditCsv, auditQuery, readAuditFilters } from "../audit-console.ts";
import { AdminError } from "../errors.ts";
import { AuditPage } from "../views/audit.tsx";

export function auditRoutes(
  routes: AccessRoutes,
  trail: AuditTrail,
  log: (message: string, error?: unknown) => void,
): void {
  const me = operatorOf;
  // The audit trail: phase changes and operator actions, filtered, a page at a time, and as CSV.
  const auditPage = async (filters: ReturnType<typeof readAuditFilters>, cursor?: string) => {
    try {
      return await trail.page({ ...auditQuery(filters), ...(cursor ? { cursor } : {}) });
    } catch (error) {
      if (error instanceof ControlCursorError) {
        throw new AdminError(400, "bad_cursor", "This page link is no longer valid; start from the newest entries.");
      }
      throw error;
    }
  };
  routes.get("/audit", "viewer", async (c) => {
    const typed = c.req.query();
    try {
      const filters = readAuditFilters(typed);
      const page = await auditPage(filters, c.req.query("cursor"));
      return c.html(
        <AuditPage operator={me(c)} entries={page.entries} filters={filters} cursor={page.cursor} typed={typed} />,
      );
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 400) throw error;
      const page = await trail.page();
      return c.html(
        <AuditPage
          operator={me(c)}
          entries={page.entries}
          filters={{}}
          cursor={page.cursor}
          typed={typed}
          error={{ message: error.message, fields: error.fields }}
        />,
        400,
      );
    }
  });
  routes.get("/api/audit", "viewer", async (c) => {
    const page = await auditPage(readAuditFilters(c.req.query()), c.req.query("cursor"));
    return c.json(page);
  });
  routes.get("/audit.csv", "viewer", async (c) => {
    const filters = readAuditFilters(c.req.query());
    // A page of the trail at a time, written out as it is read: an export of any size holds one page in memory.
    const pages = trail.pages(auditQuery(filters));
    let header = true;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await pages.next();
          if (next.done) {
            if (header) controller.enqueue(encoder.encode(auditCsv([], true)));
            controller.close();
            return;
          }
          controller.enqueue(encoder.encode(auditCsv(next.value, header)));
          header = false;
        } catch (error) {
          log("the audit export failed", error);
          controller.error(error);
        }
      },
      async cancel() {
        await pages.return(undefined);
      },
    });
    return c.body(body, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="ferry-audit.csv"',
    });
  });
}
