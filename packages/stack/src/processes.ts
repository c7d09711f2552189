import { spawn } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.ts";

/** True while a process with this pid exists (and, when `marker` is given, its command line contains it). */
export function isRunning(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (marker === undefined) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(marker);
  } catch {
    // No /proc (not Linux): trust the pid.
    return true;
  }
}

/** Stops a process: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!isRunning(pid)) return;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return;
    await sleep(50);
  }
  signal(pid, "SIGKILL");
  while (isRunning(pid)) await sleep(20);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not read the port the OS gave"));
      });
    });
  });
}

/** True when something already listens on 127.0.0.1:port. */
export async function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolveInUse) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolveInUse(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveInUse(false)));
  });
}

/** The path of an executable on PATH (or in the usual sbin folders, which are often off a user's PATH), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The last lines of a log file, for error messages. */
export function tail(path: string, lines = 12): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export interface DetachedServer {
  /** What to call it in messages, e.g. "DynamoDB Local". */
  what: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here; its tail is shown when starting fails. */
  logFile: string;
  port: number;
  /** Resolves true once the server answers a real request. */
  answers: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

/**
 * Starts a server detached from this process (so it outlives the CLI), tells `onSpawn` its pid at once
 * (so a crash of ours cannot orphan it unrecorded), and waits until it answers. If it exits or does
 * not answer in time, it is stopped and the error shows the tail of its log.
 */
export async function startDetached(server: DetachedServer, onSpawn?: (pid: number) => void): Promise<number> {
  mkdirSync(dirname(server.logFile), { recursive: true });
  const log = openSync(server.logFile, "a");
  const child = spawn(server.command, server.args, {
    cwd: server.cwd,
    env: server.env ?? process.env,
    detached: true,
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new StackError(`could not start ${server.what} (${server.command} did not spawn)`);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  child.unref();
  onSpawn?.(pid);

  const logHint = () => `its log (${server.logFile}) ends with:\n${tail(server.logFile)}`;
  const timeoutMs = server.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited || !isRunning(pid)) {
      throw new StackError(`${server.what} exited while starting on port ${server.port}`, { hint: logHint() });
    }
    if (await server.answers()) return pid;
    await sleep(100);
  }
  await stopProcess(pid);
  throw new StackError(`${server.what} did not answer on port ${server.port} within ${timeoutMs / 1000}s`, {
    hint: logHint(),
  });
}
