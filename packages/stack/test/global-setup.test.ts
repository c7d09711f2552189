import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandLine, isRunning } from "../src/processes.ts";
import { writeState } from "../src/state.ts";
import { finishTestStack } from "../src/test-global-setup.ts";

describe("the test run's teardown", () => {
  it("stops the stack even when looking for leftovers fails, and still fails the run", async () => {
    const home = mkdtempSync(join(tmpdir(), "ferry-teardown-"));
    // Stands in for the run's DynamoDB Local: its command line is what `stack down` looks for.
    const fake = spawn(
      process.execPath,
      ["-e", "setInterval(() => {}, 1000)", "--", "-jar", "/x/DynamoDBLocal.jar", "-port", "8123"],
      { stdio: "ignore" },
    );
    const pid = fake.pid ?? 0;
    while (!commandLine(pid)?.text.includes("DynamoDBLocal.jar")) await new Promise((r) => setTimeout(r, 5));
    writeState(home, {
      version: 1,
      dynamodb: { url: "http://127.0.0.1:8123", startedByFerry: true, pid, port: 8123, inMemory: true },
    });
    await expect(
      finishTestStack(home, async () => {
        throw new Error("connect ECONNREFUSED");
      }),
    ).rejects.toThrow("connect ECONNREFUSED");
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(home)).toBe(false);
  });

  it("fails the run when test files left something behind", async () => {
    const home = mkdtempSync(join(tmpdir(), "ferry-teardown-"));
    await expect(finishTestStack(home, async () => ["ft1_x", "table ft1_y"])).rejects.toThrow(
      "test files left databases or tables behind: ft1_x, table ft1_y",
    );
    expect(existsSync(home)).toBe(false);
  });
});
