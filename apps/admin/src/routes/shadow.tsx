/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The shadow reads' routes: the counters the store's shadow readers keep in the control table (for the 3 -> 4 move),
 * by the minute for the chart, and the mismatch log with each mismatch's fields and correlation id.
 */
import {
  type Codec,
  MismatchLog,
  MismatchLogError,
  type PhaseStore,
  readShadowCounts,
  readShadowMinutes,
  shownMismatch,
} from "@ferry/runtime";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { AdminError } from "../errors.ts";
import { ShadowPage, type ShadowView } from "../views/shadow.tsx";

/** The longest span the chart shows: the per-minute counts are kept 7 days. */
const MAX_MINUTES = 7 * 24 * 60;

export function shadowRoutes(
  routes: AccessRoutes,
  phases: PhaseStore,
  now: () => number,
  codec: Codec | undefined,
): void {
  const me = operatorOf;
  const log = new MismatchLog(phases.client, { tablePrefix: phases.tablePrefix });
  const view = async (query: (name: string) => string | undefined): Promise<ShadowView> => {
    const typed = query("minutes");
    const span = typed === undefined || typed === "" ? 60 : Number(typed);
    if (!Number.isSafeInteger(span) || span < 1 || span > MAX_MINUTES) {
      const message = `The span is a whole number of minutes, from 1 to ${MAX_MINUTES}.`;
      throw new AdminError(400, "invalid", message, { minutes: message });
    }
    const entity = query("entity") || undefined;
    const cursor = query("cursor") || undefined;
    const to = now();
    const [state, counts, minutes] = await Promise.all([
      phases.get(),
      readShadowCounts(phases.client, phases.tablePrefix),
      readShadowMinutes(phases.client, phases.tablePrefix, { from: to - (span - 1) * 60_000, to }),
    ]);
    let page: Awaited<ReturnType<MismatchLog["list"]>>;
    try {
      page = await log.list({ limit: 20, ...(entity ? { entity } : {}), ...(cursor ? { cursor } : {}) });
    } catch (error) {
      if (error instanceof MismatchLogError) {
        throw new AdminError(400, "bad_cursor", "This page link is no longer valid; start from the newest mismatches.");
      }
      throw error;
    }
    // The 3 -> 4 move's own shadow check (the guard rail's code, as the phase page shows it), in phase 3 only: the
    // counters start afresh on entering phase 3, so before it they say nothing of the move.
    const check =
      state.phase === 3
        ? (await phases.preconditions(4, state)).find((precondition) => precondition.name === "shadow reads")
        : undefined;
    return {
      check: check === undefined ? undefined : { met: check.met, reason: check.reason },
      counts,
      threshold: state.mismatchThreshold,
      minComparisons: state.minComparisons,
      phase: state.phase,
      minutes,
      span,
      until: to,
      // Kept before an attribute was marked sensitive, its values show as tags now too.
      mismatches: codec === undefined ? page.mismatches : page.mismatches.map((each) => shownMismatch(codec, each)),
      cursor: page.cursor,
      entity,
    };
  };
  routes.get("/shadow", "viewer", async (c) =>
    c.html(<ShadowPage operator={me(c)} view={await view((name) => c.req.query(name))} />),
  );
  routes.get("/api/shadow", "viewer", async (c) => c.json(await view((name) => c.req.query(name))));
}
