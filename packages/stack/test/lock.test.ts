import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { withStackLock } from "../src/state.ts";

const worker = fileURLToPath(new URL("./fixtures/lock-worker.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "ferry-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", worker, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

/** A pid that is certainly not running: a child that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("close", resolve));
  return child.pid ?? 0;
}

describe("the stack lock", () => {
  it("is held by one process at a time: 8 processes x 50 rounds never overlap", async () => {
    const home = join(root, "many");
    const log = join(root, "many.log");
    writeFileSync(log, "");
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run([home, log, `w${i}`, "50"])));
    expect(results.map((r) => r.stderr).join("")).toBe("");
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(8 * 2 * 50);
    // Each process entered and left 50 times (in an order the lock decides).
    const tally: Record<string, number> = {};
    for (const line of lines) tally[line] = (tally[line] ?? 0) + 1;
    const expected: Record<string, number> = {};
    for (let i = 0; i < 8; i++) {
      expected[`enter w${i}`] = 50;
      expected[`leave w${i}`] = 50;
    }
    expect(tally).toEqual(expected);
    for (let i = 0; i < lines.length; i += 2) {
      const id = lines[i]?.replace(/^enter /, "");
      // Each enter is followed at once by the same process's leave: no one else got in between.
      expect([lines[i], lines[i + 1]]).toEqual([`enter ${id}`, `leave ${id}`]);
    }
    // Nothing is left behind: no lock, no takeover file, no temporary files.
    expect(readdirSync(home)).toEqual([]);
  });

  it("takes over a lock whose holder died, and a lock an older ferry left empty", async () => {
    const home = join(root, "stale");
    await withStackLock(home, async () => undefined);
    writeFileSync(join(home, "stack.lock"), `${await deadPid()} 0123456789abcdef\n`);
    expect(await withStackLock(home, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
    expect(existsSync(join(home, "stack.lock"))).toBe(false);
  });

  it("waits for a live holder, however its lock file reads, and names it when giving up", async () => {
    const home = join(root, "live");
    await withStackLock(home, async () => undefined);
    writeFileSync(join(home, "stack.lock"), `${process.pid} 0123456789abcdef\n`);
    await expect(withStackLock(home, async () => "ran", { timeoutMs: 300 })).rejects.toThrow(
      `another ferry process (pid ${process.pid}) is changing the stack`,
    );
    // An empty lock (one being written by an older ferry) is waited for too, not taken over.
    writeFileSync(join(home, "stack.lock"), "");
    await expect(withStackLock(home, async () => "ran", { timeoutMs: 300 })).rejects.toThrow(
      "another ferry process is changing the stack",
    );
    // The lock vanishing while it is being looked at (ENOENT) is no error: it is taken.
    setTimeout(() => rmSync(join(home, "stack.lock")), 100);
    expect(await withStackLock(home, async () => "ran", { timeoutMs: 5_000 })).toBe("ran");
  });
});
