/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The backfill's routes: the open run live (server-sent events), the runs, a run's rejected rows. */
import { type BackfillLedger, BackfillRunNotFound, encodeKey } from "@ferry/runtime";
import { streamSSE } from "hono/streaming";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { AdminError } from "../errors.ts";
import type { ProgressFeed } from "../progress-feed.ts";
import { BackfillPage, RunPage } from "../views/backfill.tsx";

export function backfillRoutes(
  routes: AccessRoutes,
  backfill: BackfillLedger,
  progress: ProgressFeed,
  now: () => number,
): void {
  const me = operatorOf;
  // The backfill: the open run live (server-sent events from the progress kept in the control table, so a run started
  // from the CLI shows too), the runs, and a run's rejected rows.
  /** A run and its rejected rows (keys tagged as encodeKey writes them: a BIGINT or bytes survive as JSON). */
  const run = async (id: string) => {
    if (!/^[\w.:-]{1,100}$/.test(id)) throw new AdminError(404, "not_found", "There is no backfill run with this id.");
    try {
      const [report, rejected] = await Promise.all([backfill.progress(id), backfill.rejected(id)]);
      return { run: report, rejected };
    } catch (error) {
      if (error instanceof BackfillRunNotFound)
        throw new AdminError(404, "not_found", "There is no backfill run with this id.");
      throw error;
    }
  };
  routes.get("/backfill", "viewer", async (c) => {
    const [current, runs] = await Promise.all([backfill.current(), backfill.runs(20)]);
    return c.html(<BackfillPage operator={me(c)} current={current} runs={runs} />);
  });
  routes.get("/api/backfill", "viewer", async (c) => {
    const [current, runs] = await Promise.all([backfill.current(), backfill.runs(20)]);
    return c.json({ current: current ?? null, runs });
  });
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
    return c.html(<RunPage operator={me(c)} run={found.run} rejected={found.rejected} />);
  });
  routes.get("/api/backfill/:id", "viewer", async (c) => {
    const found = await run(c.req.param("id") ?? "");
    const rows = found.rejected.rows.map((row) => ({ ...row, key: JSON.parse(encodeKey(row.key)) as unknown }));
    return c.json({ run: found.run, rejected: { ...found.rejected, rows } });
  });
}
