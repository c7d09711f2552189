/**
 * The journey's child processes: the `ferry` CLI (every migration step goes through it, as a team's would), the store
 * processes of the fleet, and the load.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "packages", "cli", "src", "bin.ts");
const STORE = join(dirname(fileURLToPath(import.meta.url)), "store-process.ts");
const LOAD = join(dirname(fileURLToPath(import.meta.url)), "load.mjs");

export interface CliResult {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Runs `ferry <args>` from the repository's root with `env` added; resolves with how it ended (never rejects on exit).
 * `killAfterMs`: SIGKILL it that long after its start (a worker dying with no chance to say so); `killWhen`: SIGKILL it
 * once this says so (asked every 200 ms while it runs).
 */
export function ferry(
  args: string[],
  env: Record<string, string>,
  options: { killAfterMs?: number; killWhen?: () => Promise<boolean> } = {},
): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer =
      options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    const killWhen = options.killWhen;
    if (killWhen !== undefined) {
      const ask = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (await killWhen().catch(() => false)) child.kill("SIGKILL");
        else setTimeout(() => void ask(), 200);
      };
      void ask();
    }
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({
        args,
        code: code ?? (signal === "SIGKILL" ? 137 : 128),
        stdout,
        stderr,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/** Waits for a child's first stdout line that parses as JSON (rejects when it exits first). */
function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const value = JSON.parse(line) as T;
          child.stdout?.off("data", onData);
          resolve(value);
          return;
        } catch {
          // an unfinished line: wait for the rest
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      err = `${err}${chunk.toString()}`.slice(-4_000);
    });
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code} before it was ready: ${err.trim()}`)));
  });
}

export interface StoreProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts one store process (journey/src/store-process.ts) on `env`'s stores (PORT: its port, any free one when 0 or
 * unset) and waits until it serves.
 */
export async function startStore(env: Record<string, string>, onLog: (line: string) => void): Promise<StoreProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", STORE], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") onLog(line);
  });
  const { url } = await firstJsonLine<{ url: string }>(child, "a store process");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface LoadConfig {
  urls: string[];
  /** Per URL. */
  connections: number;
  totalConnections: number;
  /** Requests per second over all URLs; undefined: as fast as they answer. */
  rate?: number;
  products: string[];
  leaves: string[];
  words: string[];
  /** JSON lines: what the store said it did. */
  log: string;
  /** JSON lines: one per second. */
  stats: string;
  /** JSON lines: one per failed request ({ at, step, status }). */
  failures: string;
  card: Record<string, string>;
}

export interface LoadSummary {
  /** Per step, answers by HTTP status. */
  steps: Record<string, Record<string, number>>;
  errors: number;
  timeouts: number;
}

export interface LoadProcess {
  /** SIGTERM; resolves with the load's summary once it has written its files. */
  stop(): Promise<LoadSummary>;
  /** SIGKILL (cleaning up after a failure). */
  kill(): void;
}

/** Starts the load (journey/src/load.mjs) in a process of its own. */
export function startLoad(config: LoadConfig, onLog: (line: string) => void): LoadProcess {
  const child = spawn(process.execPath, [LOAD, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") onLog(line);
  });
  // "close": once its output is all read ("exit" may come before the last line).
  const ended = new Promise<LoadSummary>((resolve, reject) =>
    child.once("close", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !last.startsWith("{")) reject(new Error(`the load exited with ${code}`));
      else resolve(JSON.parse(last) as LoadSummary);
    }),
  );
  // Observed at once: a load that dies mid-journey is found when it is stopped, not as an unhandled rejection.
  ended.catch(() => undefined);
  return {
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return ended;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
