/**
 * A worker's share of a backfill run: `{ index, total }` pins a worker to the segments whose run-wide number is
 * `index` modulo `total` (BackfillLedger.claim's `pin`). Without a share, a worker claims any segment.
 *
 * Where the share comes from, first match wins:
 *
 * 1. `--segment I --total-segments N` (both, or `--total-segments` alone with the index from 2 or 3);
 * 2. `JOB_COMPLETION_INDEX`, which Kubernetes sets in the pods of an Indexed Job. Kubernetes does not pass the Job's
 *    completion count, so the total comes from `--total-segments` or `FERRY_TOTAL_SEGMENTS` (set it to
 *    `.spec.completions`);
 * 3. `AWS_BATCH_JOB_ARRAY_INDEX` and `AWS_BATCH_JOB_ARRAY_SIZE`, which AWS Batch sets in the children of an array job
 *    (the total may also come from `--total-segments` or `FERRY_TOTAL_SEGMENTS`).
 *
 * A value that is not a whole number, or an index outside 0 .. total - 1, is one WorkerShareError.
 */
import { ErrorWithHint } from "../errors.ts";

/** A worker's share of the segments: those whose number modulo `total` is `index`. */
export interface WorkerShare {
  index: number;
  total: number;
}

/** The command line's part: `--segment` and `--total-segments`, as numbers or as the text given. */
export interface WorkerShareOptions {
  segment?: number | string;
  totalSegments?: number | string;
}

/** The environment variable that gives a Kubernetes Indexed Job's workers the total (its `.spec.completions`). */
export const TOTAL_SEGMENTS_VARIABLE = "FERRY_TOTAL_SEGMENTS";

/** A share that cannot be used (not a whole number, out of range, a part missing). */
export class WorkerShareError extends ErrorWithHint {
  override readonly name = "WorkerShareError";
}

/** The worker's share from the options, else from the variables Kubernetes or AWS Batch set; undefined when none. */
export function workerShare(
  options: WorkerShareOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): WorkerShare | undefined {
  const given = (value: number | string | undefined) => value !== undefined && value !== "";
  if (given(options.segment)) {
    if (!given(options.totalSegments)) {
      throw new WorkerShareError("--segment needs --total-segments (how many shares the run is split into)");
    }
    return checked(
      wholeNumber(options.segment, "--segment"),
      wholeNumber(options.totalSegments, "--total-segments"),
      "--segment",
      "--total-segments",
    );
  }
  const explicitTotal = given(options.totalSegments)
    ? { value: wholeNumber(options.totalSegments, "--total-segments"), from: "--total-segments" }
    : given(env[TOTAL_SEGMENTS_VARIABLE])
      ? { value: wholeNumber(env[TOTAL_SEGMENTS_VARIABLE], TOTAL_SEGMENTS_VARIABLE), from: TOTAL_SEGMENTS_VARIABLE }
      : undefined;
  if (given(env.JOB_COMPLETION_INDEX)) {
    const index = wholeNumber(env.JOB_COMPLETION_INDEX, "JOB_COMPLETION_INDEX");
    if (explicitTotal === undefined) {
      throw new WorkerShareError(
        "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job), but not how many workers share the run",
        { hint: `set ${TOTAL_SEGMENTS_VARIABLE} to the Job's .spec.completions, or pass --total-segments N` },
      );
    }
    return checked(index, explicitTotal.value, "JOB_COMPLETION_INDEX", explicitTotal.from);
  }
  if (given(env.AWS_BATCH_JOB_ARRAY_INDEX)) {
    const index = wholeNumber(env.AWS_BATCH_JOB_ARRAY_INDEX, "AWS_BATCH_JOB_ARRAY_INDEX");
    const total =
      explicitTotal ??
      (given(env.AWS_BATCH_JOB_ARRAY_SIZE)
        ? {
            value: wholeNumber(env.AWS_BATCH_JOB_ARRAY_SIZE, "AWS_BATCH_JOB_ARRAY_SIZE"),
            from: "AWS_BATCH_JOB_ARRAY_SIZE",
          }
        : undefined);
    if (total === undefined) {
      throw new WorkerShareError(
        "AWS_BATCH_JOB_ARRAY_INDEX is set (an AWS Batch array job), but AWS_BATCH_JOB_ARRAY_SIZE is not",
        { hint: `set ${TOTAL_SEGMENTS_VARIABLE}, or pass --total-segments N` },
      );
    }
    return checked(index, total.value, "AWS_BATCH_JOB_ARRAY_INDEX", total.from);
  }
  if (explicitTotal !== undefined && explicitTotal.from === "--total-segments") {
    throw new WorkerShareError(
      "--total-segments needs --segment (or JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) to say which share is this worker's",
    );
  }
  return undefined;
}

function wholeNumber(value: number | string | undefined, name: string): number {
  const text = String(value).trim();
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new WorkerShareError(`${name} must be a whole number from 0 up, got '${String(value)}'`);
  }
  return number;
}

function checked(index: number, total: number, indexFrom: string, totalFrom: string): WorkerShare {
  if (total < 1) throw new WorkerShareError(`${totalFrom} must be at least 1, got ${total}`);
  if (index >= total) {
    throw new WorkerShareError(
      `${indexFrom} is ${index}, outside the ${total} shares of ${totalFrom} (0 to ${total - 1})`,
    );
  }
  return { index, total };
}
