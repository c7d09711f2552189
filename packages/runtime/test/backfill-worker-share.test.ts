/** A worker's share of a backfill run from the command line, Kubernetes Indexed Jobs or AWS Batch array jobs. */
import { describe, expect, it } from "vitest";
import { WorkerShareError, type WorkerShareOptions, workerShare } from "../src/backfill/index.ts";

function refusal(options: WorkerShareOptions, env: Record<string, string> = {}): WorkerShareError {
  try {
    workerShare(options, env);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerShareError);
    return error as WorkerShareError;
  }
  throw new Error("expected a WorkerShareError, and nothing was thrown");
}

describe("workerShare", () => {
  it("is none without options or variables (a worker claims any segment)", () => {
    expect(workerShare({}, {})).toBeUndefined();
    expect(workerShare({}, { FERRY_TOTAL_SEGMENTS: "4" })).toBeUndefined();
  });

  it("takes --segment and --total-segments first, as numbers or text", () => {
    const env = { JOB_COMPLETION_INDEX: "3", FERRY_TOTAL_SEGMENTS: "9", AWS_BATCH_JOB_ARRAY_INDEX: "1" };
    expect(workerShare({ segment: 2, totalSegments: 5 }, env)).toEqual({ index: 2, total: 5 });
    expect(workerShare({ segment: "0", totalSegments: "1" }, {})).toEqual({ index: 0, total: 1 });
  });

  it("takes a Kubernetes Indexed Job's index, with the total from --total-segments or FERRY_TOTAL_SEGMENTS", () => {
    expect(workerShare({}, { JOB_COMPLETION_INDEX: "3", FERRY_TOTAL_SEGMENTS: "4" })).toEqual({ index: 3, total: 4 });
    expect(workerShare({ totalSegments: 8 }, { JOB_COMPLETION_INDEX: "3", FERRY_TOTAL_SEGMENTS: "4" })).toEqual({
      index: 3,
      total: 8,
    });
    const missing = refusal({}, { JOB_COMPLETION_INDEX: "3" });
    expect(missing.message).toBe(
      "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job), but not how many workers share the run",
    );
    expect(missing.hint).toBe("set FERRY_TOTAL_SEGMENTS to the Job's .spec.completions, or pass --total-segments N");
  });

  it("takes an AWS Batch array job's index and size", () => {
    expect(workerShare({}, { AWS_BATCH_JOB_ARRAY_INDEX: "0", AWS_BATCH_JOB_ARRAY_SIZE: "10" })).toEqual({
      index: 0,
      total: 10,
    });
    expect(
      workerShare({}, { AWS_BATCH_JOB_ARRAY_INDEX: "6", AWS_BATCH_JOB_ARRAY_SIZE: "10", FERRY_TOTAL_SEGMENTS: "7" }),
    ).toEqual({ index: 6, total: 7 });
    expect(refusal({}, { AWS_BATCH_JOB_ARRAY_INDEX: "6" }).message).toBe(
      "AWS_BATCH_JOB_ARRAY_INDEX is set (an AWS Batch array job), but AWS_BATCH_JOB_ARRAY_SIZE is not",
    );
  });

  it("refuses values out of range or not whole numbers, and a half-given pair, with one clear error", () => {
    expect(refusal({ segment: 5, totalSegments: 5 }).message).toBe(
      "--segment is 5, outside the 5 shares of --total-segments (0 to 4)",
    );
    expect(refusal({}, { AWS_BATCH_JOB_ARRAY_INDEX: "10", AWS_BATCH_JOB_ARRAY_SIZE: "10" }).message).toBe(
      "AWS_BATCH_JOB_ARRAY_INDEX is 10, outside the 10 shares of AWS_BATCH_JOB_ARRAY_SIZE (0 to 9)",
    );
    expect(refusal({}, { JOB_COMPLETION_INDEX: "2", FERRY_TOTAL_SEGMENTS: "2" }).message).toBe(
      "JOB_COMPLETION_INDEX is 2, outside the 2 shares of FERRY_TOTAL_SEGMENTS (0 to 1)",
    );
    expect(refusal({ segment: 0, totalSegments: 0 }).message).toBe("--total-segments must be at least 1, got 0");
    expect(refusal({ segment: "-1", totalSegments: 3 }).message).toBe(
      "--segment must be a whole number from 0 up, got '-1'",
    );
    expect(refusal({ segment: 1.5, totalSegments: 3 }).message).toBe(
      "--segment must be a whole number from 0 up, got '1.5'",
    );
    expect(refusal({}, { JOB_COMPLETION_INDEX: "two", FERRY_TOTAL_SEGMENTS: "3" }).message).toBe(
      "JOB_COMPLETION_INDEX must be a whole number from 0 up, got 'two'",
    );
    expect(refusal({ segment: 1 }).message).toBe(
      "--segment needs --total-segments (how many shares the run is split into)",
    );
    expect(refusal({ totalSegments: 4 }).message).toBe(
      "--total-segments needs --segment (or JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) to say which share is this worker's",
    );
  });
});
