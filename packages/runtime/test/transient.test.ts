import { describe, expect, it } from "vitest";
import { isTransient, retryTransient } from "../src/transient.ts";

const reset = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

describe("isTransient", () => {
  it("tells a store away for a while from an error of the data", () => {
    expect(isTransient(reset())).toBe(true);
    expect(isTransient(Object.assign(new Error("lost"), { errno: 2013 }))).toBe(true);
    expect(isTransient(Object.assign(new Error("busy"), { name: "x", $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error("bad"), { $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isTransient(Object.assign(new Error("duplicate"), { errno: 1062 }))).toBe(false);
    expect(isTransient(Object.assign(new Error("aborted"), { name: "AbortError", code: "ECONNRESET" }))).toBe(false);
    // Ferry's own wrapper of an error already tried again is final.
    expect(isTransient(new Error("the page failed after 6 tries", { cause: reset() }))).toBe(false);
  });
});

describe("retryTransient", () => {
  it("tries again after a transient error, not after another, and gives up after its attempts", async () => {
    let calls = 0;
    await expect(
      retryTransient(async () => {
        calls++;
        if (calls < 3) throw reset();
        return "read";
      }),
    ).resolves.toBe("read");
    expect(calls).toBe(3);

    calls = 0;
    const final = new Error("ValidationException");
    await expect(
      retryTransient(async () => {
        calls++;
        throw final;
      }),
    ).rejects.toBe(final);
    expect(calls).toBe(1);

    calls = 0;
    const retried: number[] = [];
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw reset();
        },
        { attempts: 3, onRetry: (_, attempt) => retried.push(attempt) },
      ),
    ).rejects.toThrow("socket hang up");
    expect([calls, retried]).toEqual([3, [1, 2]]);
  });
});
