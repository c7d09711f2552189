import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dynamoDbIdentity } from "../src/dynamodb.ts";
import { mariaDbIdentity } from "../src/mysql.ts";
import {
  commandLine,
  commandLineFromPs,
  isRunning,
  listensOn,
  processStartTime,
  stopProcess,
} from "../src/processes.ts";
import { killLookalikes, lookalike } from "./fixtures/lookalike.ts";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  killLookalikes();
});

/**
 * A zombie: `sleep 30` becomes the parent of a child that exits, and never reaps it. The child outlives the shell's
 * exec by a moment: one that exited first could be reaped by the shell itself, leaving no zombie.
 */
async function zombie(): Promise<number> {
  const parent = spawn("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(parent);
  const pid = await new Promise<number>((resolve) => parent.stdout?.once("data", (chunk) => resolve(Number(chunk))));
  for (let i = 0; i < 250; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error("expected a zombie, found nothing");
    }
    if (commandLineFromPs(pid) === undefined || commandLine(pid) === undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pid;
}

describe("process identity", () => {
  it("knows a MariaDB by its data folder, not by its name (a system MariaDB is not ours)", async () => {
    const pid = await lookalike("/usr/sbin/mariadbd", "--datadir=/home/a b/.ferry/mysql", "--port=3307");
    expect(isRunning(pid, mariaDbIdentity("/home/a b/.ferry/mysql"))).toBe(true);
    expect(isRunning(pid, mariaDbIdentity("/var/lib/mysql"))).toBe(false);
    expect(isRunning(pid, mariaDbIdentity("/home/a b/.ferry"))).toBe(false);
    const other = await lookalike("/usr/sbin/mariadbd", "--datadir=/var/lib/mysql");
    expect(isRunning(other, mariaDbIdentity("/home/a b/.ferry/mysql"))).toBe(false);
  });

  it("knows DynamoDB Local by its jar and its port", async () => {
    const pid = await lookalike("-jar", "/x/lib/DynamoDBLocal.jar", "-port", "8123", "-inMemory");
    expect(isRunning(pid, dynamoDbIdentity(8123))).toBe(true);
    expect(isRunning(pid, dynamoDbIdentity(812))).toBe(false);
    expect(isRunning(pid, dynamoDbIdentity(8000))).toBe(false);
    expect(isRunning(await lookalike("-port", "8123"), dynamoDbIdentity(8123))).toBe(false);
  });

  it("reads the same identity from `ps` where there is no /proc (macOS)", async () => {
    const pid = await lookalike(
      "mariadbd",
      "--datadir=/a b/mysql",
      "-jar",
      "/x/lib/DynamoDBLocal.jar",
      "-port",
      "8123",
    );
    const fromPs = commandLineFromPs(pid);
    // `ps` shows the arguments joined by spaces (so they cannot be told apart), framed by a space each side.
    expect(fromPs).toEqual({
      text: ` ${process.execPath} -e setInterval(() => {}, 1000) -- mariadbd --datadir=/a b/mysql -jar /x/lib/DynamoDBLocal.jar -port 8123 `,
      sep: " ",
    });
    if (!fromPs) return;
    expect(dynamoDbIdentity(8123)(fromPs)).toBe(true);
    expect(dynamoDbIdentity(812)(fromPs)).toBe(false);
    expect(mariaDbIdentity("/a b/mysql")(fromPs)).toBe(true);
    // Arguments cannot be told apart in `ps` output, but "/a" is not followed by an option.
    expect(mariaDbIdentity("/a")(fromPs)).toBe(false);
    expect(mariaDbIdentity("/a b")(fromPs)).toBe(false);
  });

  it("tells which process holds a listening port", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      expect(listensOn(await lookalike(), port)).toBe(false);
    } finally {
      server.close();
    }
  });
});

describe("stopProcess", () => {
  it("counts a zombie as exited, so stopping one signals nothing and says nothing was stopped", async () => {
    const pid = await zombie();
    // Still there for the kernel (signal 0 reaches it), though it has exited.
    expect(process.kill(pid, 0)).toBe(true);
    expect(isRunning(pid)).toBe(false);
    // Not running, so nothing is stopped: no SIGTERM, no grace period, no SIGKILL.
    expect(await stopProcess(pid, { graceMs: 60_000, killWaitMs: 60_000 })).toBe(false);
  });

  it("gives up with a clear error when a process outlives SIGKILL (stuck in the kernel)", async () => {
    const pid = await lookalike();
    // Signals other than 0 (the existence probe) get lost, as they do to a process in uninterruptible sleep.
    const realKill = process.kill.bind(process);
    const kill = vi.spyOn(process, "kill").mockImplementation((target, signal) => {
      return signal === 0 ? realKill(target, 0) : true;
    });
    try {
      await expect(stopProcess(pid, { graceMs: 100, killWaitMs: 300 })).rejects.toThrow(
        `process ${pid} is still there 0.3s after SIGKILL`,
      );
      expect(kill).toHaveBeenCalledWith(pid, "SIGKILL");
    } finally {
      kill.mockRestore();
    }
    expect(isRunning(pid)).toBe(true);
  });

  it("stops a live process with SIGTERM", async () => {
    const pid = await lookalike();
    expect(isRunning(pid)).toBe(true);
    expect(await stopProcess(pid, { graceMs: 2_000, killWaitMs: 1_000 })).toBe(true);
    expect(isRunning(pid)).toBe(false);
  });

  it("signals nothing when the pid is not (or no longer) the process it must be", async () => {
    const pid = await lookalike("/usr/sbin/mariadbd", "--datadir=/var/lib/mysql");
    expect(await stopProcess(pid, { identity: mariaDbIdentity("/home/a/.ferry/mysql"), graceMs: 100 })).toBe(false);
    expect(isRunning(pid)).toBe(true);
    expect(await stopProcess(pid, { identity: mariaDbIdentity("/var/lib/mysql"), graceMs: 2_000 })).toBe(true);
    expect(isRunning(pid)).toBe(false);
  });
});

describe("processStartTime", () => {
  it("tells one process from another, and is undefined once a process is gone", async () => {
    const pid = await lookalike();
    const started = processStartTime(pid);
    expect(started).toMatch(/\S/);
    expect(processStartTime(pid)).toBe(started);
    expect(processStartTime(process.pid)).not.toBe(started);
    const exited = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => exited.once("close", resolve));
    expect(processStartTime(exited.pid ?? 0)).toBeUndefined();
  });
});
