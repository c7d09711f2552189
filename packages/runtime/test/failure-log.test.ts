import { describe, expect, it } from "vitest";
import { FailureLog } from "../src/failure-log.ts";

describe("FailureLog", () => {
  it("logs a failure when it starts and when it ends, not on every try in between, each thing on its own", () => {
    const lines: string[] = [];
    const failures = new FailureLog((message, error) =>
      lines.push(error === undefined ? message : `${message}: ${error}`),
    );
    failures.recovered("phase", "the phase can be read again");
    failures.failed("phase", "reading the phase failed", "refused");
    failures.failed("phase", "reading the phase failed", "refused");
    failures.failed("heartbeat", "writing the heartbeat failed", "refused");
    failures.recovered("phase", "the phase can be read again");
    failures.recovered("phase", "the phase can be read again");
    failures.failed("phase", "reading the phase failed", "timed out");
    expect(lines).toEqual([
      "reading the phase failed (logged once until it works again): refused",
      "writing the heartbeat failed (logged once until it works again): refused",
      "the phase can be read again",
      "reading the phase failed (logged once until it works again): timed out",
    ]);
  });
});
