/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The backfill's routes: the open run live (server-sent events), the runs, a run's rejected rows. */
import { type BackfillLedger, BackfillRunNotFound, encodeKey } from "@ferry/runtime";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { type ConsoleWork, needWork, readBackfillStart, tickedEntities } from "../console-work.ts";
import { AdminError } from "../errors.ts";
import type { ProgressFeed } from "../progress-feed.ts";
import type { AdminEnv } from "../session.ts";
import { type BackfillFlash, BackfillPage, RunPage } from "../views/backfill.tsx";

export function backfillRoutes(
  routes: AccessRoutes,
  backfill: BackfillLedger,
  progress: ProgressFeed,
  now: () => number,
  work: ConsoleWork | undefined,
  entities: readonly string[] | undefined,
  jsonBody: (c: Context) => Promise<Record<string, unknown>>,
): void {
  const me = operatorOf;
  // The backfill: the open run live (server-sent events from the progress kept in the control table, so a run started
  // from the CLI shows too), the runs, and a run's rejected rows.
  /** A run and its rejected rows (keys tagged as encodeKey writes them: a BIGINT or bytes survive as JSON). */
  const run = async (id: string) => {
    if (!/^[\w.:-]{1,100}$/.test(id)) throw new AdminError(404, "not_found", "There is no backfill run with this id.");
    try {
      const [report, rejected, minutes] = await Promise.all([
        backfill.progress(id),
        backfill.rejected(id),
        backfill.minutes(id),
      ]);
      return { run: report, rejected, minutes };
    } catch (error) {
      if (error instanceof BackfillRunNotFound)
        throw new AdminError(404, "not_found", "There is no backfill run with this id.");
      throw error;
    }
  };
  const page = async (c: Context<AdminEnv>, flash?: BackfillFlash, status: 200 | 400 | 409 = 200) => {
    const [current, runs] = await Promise.all([backfill.current(), backfill.runs(20)]);
    const minutes = current === undefined ? [] : await backfill.minutes(current.id);
    return c.html(
      <BackfillPage
        operator={me(c)}
        current={current}
        minutes={minutes}
        now={now()}
        runs={runs}
        worker={work?.backfillWorker()}
        entities={work === undefined ? undefined : entities}
        flash={flash}
      />,
      status,
    );
  };
  const working = () => needWork(work);
  const SAID: Record<string, string> = {
    started: "The backfill started: this console's worker is on it.",
    stopped: "The run is stopped: its workers give their segments back after the page under way.",
    resumed: "The run is resumed: this console's worker is on it.",
    joined: "This console's worker is on the open run too.",
  };
  routes.get("/backfill", "viewer", async (c) => {
    const done = SAID[c.req.query("done") ?? ""];
    return page(c, done === undefined ? undefined : { kind: "ok", message: done });
  });
  routes.get("/api/backfill", "viewer", async (c) => {
    const [current, runs] = await Promise.all([backfill.current(), backfill.runs(20)]);
    return c.json({ current: current ?? null, runs, worker: work?.backfillWorker() ?? null });
  });
  /** A form's action: done, redirect; refused or bad input, the page again with the reason and what was typed. */
  const formAction =
    (done: string, action: (c: Context<AdminEnv>, body: Record<string, unknown>) => Promise<unknown>) =>
    async (c: Context<AdminEnv>) => {
      const body = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
      try {
        await action(c, body);
      } catch (error) {
        if (!(error instanceof AdminError) || (error.status !== 400 && error.status !== 409)) throw error;
        const typed = {
          entities: tickedEntities(body),
          rate: typeof body.rate === "string" ? body.rate : "",
        };
        return page(
          c,
          { kind: "bad", message: error.message, ...(error.fields ? { fields: error.fields } : {}), typed },
          error.status,
        );
      }
      return c.redirect(`/backfill?done=${done}`, 303);
    };
  const start = (c: Context<AdminEnv>, body: Record<string, unknown>) =>
    working().startBackfill(me(c).name, readBackfillStart(body), false);
  const stop = (c: Context<AdminEnv>) => working().stopBackfill(me(c).name);
  /** The stop the page (or the API caller) saw: its time, "none" when the run was running; absent: not checked. */
  const seenStop = (body: Record<string, unknown>): string | null | undefined =>
    typeof body.seen !== "string" ? undefined : body.seen === "none" ? null : body.seen;
  const resume = (c: Context<AdminEnv>, body: Record<string, unknown>) =>
    working().resumeBackfill(me(c).name, seenStop(body));
  routes.post("/backfill/start", "operator", formAction("started", start));
  routes.post("/backfill/stop", "operator", formAction("stopped", stop));
  routes.post("/backfill/resume", "operator", async (c) => {
    let resumed = true;
    const answer = await formAction("resumed", async (context, body) => {
      resumed = (await resume(context, body)).resumed;
    })(c);
    if (answer.status !== 303) return answer;
    return c.redirect(`/backfill?done=${resumed ? "resumed" : "joined"}`, 303);
  });
  routes.post("/api/backfill/start", "operator", async (c) => c.json(await start(c, await jsonBody(c)), 202));
  routes.post("/api/backfill/stop", "operator", async (c) => c.json({ run: await stop(c) }));
  routes.post("/api/backfill/resume", "operator", async (c) => c.json(await resume(c, await jsonBody(c)), 202));
  /** The longest one event stream stays open (the page's script opens another on a reload). */
  const STREAM_MS = 60 * 60_000;
  routes.get("/api/backfill/events", "viewer", (c) =>
    streamSSE(c, async (stream) => {
      const until = now() + STREAM_MS;
      let following: string | undefined;
      let finished = false;
      let wake: () => void = () => {};
      const sends: Array<{ event: string; data: string }> = [];
      const stop = progress.subscribe((snapshot) => {
        if (finished) return;
        if (snapshot.current !== undefined) {
          following = snapshot.current.id;
          sends.push({ event: "progress", data: JSON.stringify(snapshot.current) });
        } else {
          // The run followed has ended: its last counts, then the stream ends; no run at all: say so.
          const last = snapshot.ended !== undefined && snapshot.ended.id === following ? snapshot.ended : undefined;
          sends.push(
            last === undefined ? { event: "idle", data: "{}" } : { event: "progress", data: JSON.stringify(last) },
          );
          finished = true;
        }
        wake();
      });
      stream.onAbort(() => {
        finished = true;
        wake();
      });
      try {
        while (!stream.aborted && now() < until) {
          const next = sends.shift();
          if (next !== undefined) {
            await stream.writeSSE(next);
            continue;
          }
          if (finished) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        stop();
      }
    }),
  );
  routes.get("/backfill/:id", "viewer", async (c) => {
    const found = await run(c.req.param("id") ?? "");
    return c.html(
      <RunPage operator={me(c)} run={found.run} rejected={found.rejected} minutes={found.minutes} now={now()} />,
    );
  });
  routes.get("/api/backfill/:id", "viewer", async (c) => {
    const found = await run(c.req.param("id") ?? "");
    const rows = found.rejected.rows.map((row) => ({ ...row, key: JSON.parse(encodeKey(row.key)) as unknown }));
    return c.json({ run: found.run, rejected: { ...found.rejected, rows }, minutes: found.minutes });
  });
}
