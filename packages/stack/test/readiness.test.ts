import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { startDynamoDb } from "../src/dynamodb.ts";
import { parseMysqlUrl, startMariaDb } from "../src/mysql.ts";
import { commandLine, isRunning } from "../src/processes.ts";
import { stackDown, stackUp } from "../src/stack.ts";
import { readState } from "../src/state.ts";

const root = mkdtempSync(join(tmpdir(), "ferry-ready-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// If the port is taken between choosing it and the server starting, the other server answers the
// readiness check: ferry must notice it is not the one it started.
describe("a server is ready only when the answer comes from it", () => {
  it("DynamoDB Local: another endpoint answering on the port is refused", async () => {
    const other = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      response.end('{"TableNames":[]}');
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const address = other.address();
    const port = typeof address === "object" && address ? address.port : 0;
    let pid: number | undefined;
    try {
      await expect(
        startDynamoDb({ port, logFile: join(root, "dynamodb.log"), readyTimeoutMs: 20_000 }, (spawned) => {
          pid = spawned;
        }),
      ).rejects.toThrow(`another server answers on port ${port}, not the DynamoDB Local ferry started`);
      expect(pid !== undefined && isRunning(pid)).toBe(false);
    } finally {
      other.close();
    }
  });

  // The run's own MariaDB stands in for the other server (it lets root in without a password).
  it.skipIf(Boolean(process.env.MYSQL_URL))("MariaDB: a server with another data folder is refused", async () => {
    const { port } = parseMysqlUrl(inject("ferryStack").mysqlUrl);
    const dataDir = join(root, "my data");
    let pid: number | undefined;
    const failure = startMariaDb({ port, dataDir, logFile: join(root, "mysql.log") }, (spawned) => {
      pid = spawned;
    });
    await expect(failure).rejects.toThrow(`another server answers on port ${port}, not the MariaDB ferry started`);
    await expect(failure).rejects.toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/its data folder is \//) }),
    );
    expect(pid !== undefined && isRunning(pid)).toBe(false);
  });
});

describe("how long a private server may take to answer", () => {
  // Its check lists processes from /proc (Linux).
  it.skipIf(Boolean(process.env.MYSQL_URL) || !existsSync("/proc/self/stat"))(
    "is the caller's to set; past it, starting fails clearly and leaves nothing running",
    async () => {
      const home = join(root, "slow home");
      const failure = stackUp({ home, parts: ["mysql"], readyTimeoutMs: 1, onProgress: () => undefined });
      await expect(failure).rejects.toThrow(/^MariaDB did not answer on port \d+ within 0\.001s$/);
      expect(readState(home).mysql).toBeUndefined();
      // No process is left on the stack's data folder.
      const dataDir = join(home, "mysql");
      const onDataDir = readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => isRunning(Number(pid)) && commandLine(Number(pid))?.text.includes(dataDir));
      expect(onDataDir).toEqual([]);
    },
  );
});

/** Lets a stopped process go on (it may be gone: a server replaced is what the test below guards against). */
function resume(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Gone.
  }
}

describe("a running server of the stack that is slow to answer", () => {
  it("is kept by the next up, not replaced (an in-memory DynamoDB Local would lose its tables)", {
    timeout: 900_000,
  }, async () => {
    const home = join(root, "busy home");
    const progress: string[] = [];
    const first = await stackUp({ home, parts: ["dynamodb"], onProgress: () => undefined });
    const pid = first.dynamodb?.pid;
    if (pid === undefined) throw new Error("DynamoDB Local did not start");
    try {
      // Frozen (as a process on a loaded machine, or in a long pause, answers late), and resumed 5 s later: past the
      // 2 s the check used to give it, well inside the 30 s it gives now. The resuming is a process of its own, so
      // that it happens even if this one is gone by then.
      process.kill(pid, "SIGSTOP");
      spawn("sh", ["-c", `sleep 5; kill -CONT ${pid} 2>/dev/null`], { detached: true, stdio: "ignore" }).unref();
      try {
        const second = await stackUp({ home, parts: ["dynamodb"], onProgress: (line) => progress.push(line) });
        expect(second.dynamodb?.pid).toBe(pid);
      } finally {
        resume(pid);
      }
      expect(progress).toEqual([expect.stringMatching(new RegExp(`^dynamodb  already running: .* \\(pid ${pid}\\)$`))]);
    } finally {
      await stackDown({ home });
    }
  });
});
