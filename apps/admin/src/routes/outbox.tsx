/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The outbox's routes: what waits for each store, and "Drain now" (the runtime's drainNow, as `ferry outbox drain`). */
import { encodeKey } from "@ferry/runtime";
import type { Context } from "hono";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { type ConsoleWork, needWork } from "../console-work.ts";
import { AdminError } from "../errors.ts";
import type { AdminEnv } from "../session.ts";
import { OutboxPage } from "../views/outbox.tsx";

export function outboxRoutes(routes: AccessRoutes, work: ConsoleWork | undefined): void {
  const me = operatorOf;
  const page = async (c: Context<AdminEnv>, flash?: { kind: "ok" | "bad"; message: string }, status: 200 | 409 = 200) =>
    c.html(
      <OutboxPage operator={me(c)} status={await work?.outboxStatus()} drain={work?.drain()} flash={flash} />,
      status,
    );
  routes.get("/outbox", "viewer", async (c) =>
    page(c, c.req.query("done") === "drain" ? { kind: "ok", message: "The drain started." } : undefined),
  );
  routes.get("/api/outbox", "viewer", async (c) => {
    const status = await needWork(work).outboxStatus();
    // Keys as encodeKey tags them (a BIGINT or bytes survive as JSON).
    const stuck = (store: "dynamodb" | "mysql") =>
      status.stuck[store].map((entry) => ({
        ...entry,
        seq: String(entry.seq),
        key: JSON.parse(encodeKey(entry.key)) as unknown,
      }));
    return c.json({
      ...status,
      stuck: { dynamodb: stuck("dynamodb"), mysql: stuck("mysql") },
      drain: work?.drain() ?? null,
    });
  });
  routes.post("/outbox/drain", "operator", async (c) => {
    try {
      await needWork(work).startDrain(me(c).name);
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 409) throw error;
      return page(c, { kind: "bad", message: error.message }, 409);
    }
    return c.redirect("/outbox?done=drain", 303);
  });
  routes.post("/api/outbox/drain", "operator", async (c) => c.json(await needWork(work).startDrain(me(c).name), 202));
}
