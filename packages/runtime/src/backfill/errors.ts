/** The backfill ledger's errors: each says what happened and, where it helps, what to do. */
import { ErrorWithHint } from "../errors.ts";

/** The base of the backfill ledger's errors. */
export class BackfillError extends ErrorWithHint {
  override readonly name: string = "BackfillError";
}

/** A run id the ledger has no run for. */
export class BackfillRunNotFound extends BackfillError {
  override readonly name = "BackfillRunNotFound";
  constructor(readonly runId: string) {
    super(`there is no backfill run '${runId}'`, { hint: "list the runs with ferry backfill runs" });
  }
}

/** Another run is open: one run at a time, and a worker joins only a run of the same contract and entities. */
export class BackfillRunOpen extends BackfillError {
  override readonly name = "BackfillRunOpen";
}

/** The run has failed (or finished, for fail()): nothing more is claimed or recorded in it. */
export class BackfillRunClosed extends BackfillError {
  override readonly name = "BackfillRunClosed";
}

/** finish() while segments are not done; nothing was written. */
export class BackfillNotFinished extends BackfillError {
  override readonly name = "BackfillNotFinished";
}

/**
 * The worker no longer holds its segment's lease (it ran out and another worker took the segment over, or the segment
 * was completed or released): its checkpoint was refused, and it must stop writing the segment.
 */
export class LeaseLost extends BackfillError {
  override readonly name = "LeaseLost";
}

/** A resume that would undo a stop made after the one it saw (the run was stopped again meanwhile, or resumed). */
export class BackfillStoppedAgain extends BackfillError {
  override readonly name = "BackfillStoppedAgain";
}
