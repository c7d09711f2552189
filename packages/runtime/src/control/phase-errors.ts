/** The phase store's errors: refused changes, bad settings, lost compare-and-sets. */
import { ErrorWithHint } from "../errors.ts";
import type { Phase } from "../phases.ts";
import type { PhaseState } from "./phase-state.ts";

/** The base of the phase store's errors. */
export class PhaseControlError extends ErrorWithHint {
  override readonly name: string = "PhaseControlError";
}

/** Why a phase change was refused. */
export type RefusalRule =
  | "not-a-phase"
  | "final"
  | "no-op"
  | "step"
  | "precondition"
  | "confirm"
  | "reason"
  | "who"
  | "settings"
  | "in-progress";

/** A change the guard rails refuse; the message says why, and nothing was written. */
export class PhaseChangeRefused extends PhaseControlError {
  override readonly name = "PhaseChangeRefused";
  constructor(
    readonly rule: RefusalRule,
    readonly from: Phase,
    readonly to: number,
    /** Each reason, one sentence (a move can fail several preconditions at once). */
    readonly reasons: readonly string[],
    options: { hint?: string } = {},
  ) {
    super(`phase ${from} -> ${to} refused: ${reasons.join("; ")}`, options);
  }
}

/** A settings change that is out of range or changes nothing; nothing was written. */
export class InvalidPhaseSettings extends PhaseControlError {
  override readonly name = "InvalidPhaseSettings";
}

/** A compare-and-set that lost: someone else changed the phase (or its settings) first; nothing was written. */
export class PhaseConflict extends PhaseControlError {
  override readonly name = "PhaseConflict";
  constructor(
    /** The version the change was decided on. */
    readonly expectedVersion: number,
    /** The state as it is now. */
    readonly current: PhaseState,
    options: { cause?: unknown } = {},
  ) {
    const by = current.updatedBy === undefined ? "" : ` by ${current.updatedBy} at ${current.updatedAt ?? "?"}`;
    super(
      `someone else changed the phase first: expected version ${expectedVersion}, but it is now version ${current.version} (phase ${current.phase}, set${by}); nothing was written`,
      { hint: "read the phase again and decide on the current state", ...options },
    );
  }
}

/**
 * A move that changes the authoritative store, announced and then cancelled because the fleet did not get ready
 * before its deadline (a process did not take the announcement, or still had writes in flight under the old phase);
 * or never announced, because a silent process's write lease outlasts the wait (`announced` false). The phase stays
 * where it was; writes go on under it.
 */
export class PhaseMoveTimedOut extends PhaseControlError {
  override readonly name = "PhaseMoveTimedOut";
  constructor(
    readonly from: Phase,
    readonly to: Phase,
    /** One line per process that was not ready: who, and what it had not done. */
    readonly waitingFor: readonly string[],
    readonly deadline: string,
    /** Whether the move was announced (and then cancelled); false: a silent process's lease outlasts the wait. */
    readonly announced = true,
  ) {
    super(
      announced
        ? `phase ${from} -> ${to} cancelled: not every live process was ready before the deadline (${deadline}): ${waitingFor.join("; ")}; the phase stays ${from}`
        : `phase ${from} -> ${to} not announced: a silent process may still write after the last moment the move could be committed before its deadline (${deadline}): ${waitingFor.join("; ")}; the phase stays ${from}`,
      {
        hint: announced
          ? "see `ferry phase fleet`: stop or fix the processes named, or give them longer (--wait-ms), then try again"
          : "see `ferry phase fleet`: bring the process named back in touch with the control table, or wait until its write lease has run out (or give the move longer: --wait-ms), then try again",
      },
    );
  }
}
