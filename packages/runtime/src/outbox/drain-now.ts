/**
 * drainNow: "replay the waiting writes now", as `ferry outbox drain` and the console's "Drain now" do it. Passes of
 * Outbox.drain (due or not) for the current phase's secondary store, until nothing is synced or nothing is left; the
 * phase is read again before every pass, and a move that makes another store the secondary one stops the replays it
 * no longer allows.
 */
import type { Phase } from "../phases.ts";
import { type StoreName, secondaryStore } from "../phases.ts";
import type { Outbox } from "./outbox.ts";

/** The phase as this process's member of the fleet holds it (a started CachedPhase): read again on demand. */
export interface RefreshablePhase {
  phase(): Phase;
  /** Reads the phase again; false when it could not be read. */
  refresh(): Promise<boolean>;
}

export interface DrainNowOptions {
  /** Keys per pass (Outbox.drain's limit; default its batch). */
  limit?: number;
  /** Told after each pass: the entries replayed so far, and how many waited when it began. */
  onPass?: (synced: number, total: number) => void;
  /** Stops the drain before its next pass (a process shutting down); what is left stays for the outbox loop. */
  signal?: AbortSignal;
}

export interface DrainNowResult {
  /** The store replayed to; undefined when the phase writes one store only (nothing was replayed). */
  target: StoreName | undefined;
  /** The entries waiting for it when the drain began. */
  total: number;
  synced: number;
  failed: number;
  /** Entries still waiting for it at the end (their last errors are kept with them). */
  left: number;
  /** The phase moved during the drain and the target is no longer the secondary store. */
  phaseMoved: boolean;
  /** It was stopped (DrainNowOptions.signal) before the last pass. */
  aborted: boolean;
}

export async function drainNow(
  outbox: Outbox,
  live: RefreshablePhase,
  options: DrainNowOptions = {},
): Promise<DrainNowResult> {
  const target = secondaryStore(live.phase());
  if (target === undefined)
    return { target, total: 0, synced: 0, failed: 0, left: 0, phaseMoved: false, aborted: false };
  const total = (await outbox.metrics())[target].depth;
  let synced = 0;
  let failed = 0;
  let phaseMoved = false;
  let aborted = false;
  for (;;) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    // A phase that cannot be read now stops the drain: it must not go on by a phase it cannot vouch for.
    if (!(await live.refresh())) throw new Error("the phase could not be read from the control table");
    if (secondaryStore(live.phase()) !== target) {
      phaseMoved = true;
      break;
    }
    const pass = await outbox.drain({ force: true, ...(options.limit === undefined ? {} : { limit: options.limit }) });
    synced += pass.synced;
    failed += pass.failed;
    options.onPass?.(synced, total);
    if (pass.synced === 0 || pass.remaining === 0) break;
  }
  const left = (await outbox.metrics())[target].depth;
  return { target, total, synced, failed, left, phaseMoved, aborted };
}
