import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { vi } from "vitest";
import { printError } from "../src/output.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment variables to set (a string) or unset (undefined) for one run. */
export type Env = Record<string, string | undefined>;

/**
 * Runs `ferry ...` as a user would (a separate node process, in the repository root), with extra environment and,
 * when given, `input` on its stdin (then closed); `onStderr` sees its stderr so far each time more comes.
 */
export function runCli(
  args: string[],
  env: Env = {},
  input?: string,
  onStderr?: (stderr: string) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) merged[key] = value;
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], { cwd: repoRoot, env: merged });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      onStderr?.(stderr);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * Runs `fn` with this process's stdout, stderr and exit code borrowed (for in-process command tests) and gives
 * back what it printed and the exit code it set. One at a time: the streams are the process's own.
 */
export async function captureOutput(fn: () => Promise<void>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  const previousCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await fn();
    return { code: Number(process.exitCode ?? 0), stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.exitCode = previousCode;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

let inProcessQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs `ferry ...` in this process, as runCli does in a separate one: in the repository root, with `env` set and
 * bin.ts's error handling (printError, exit code 1; commander's own errors keep their exit code). The program has only
 * the command that `command` makes, made after `env` is set. One at a time (queued): it borrows the process's stdout,
 * stderr, environment, working directory and exit code.
 */
export function runInProcess(command: () => Command, args: string[], env: Env = {}): Promise<CliResult> {
  const run = inProcessQueue.then(() => runInProcessNow(command, args, env));
  inProcessQueue = run.catch(() => undefined);
  return run;
}

async function runInProcessNow(command: () => Command, args: string[], env: Env): Promise<CliResult> {
  const previousEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const setEnv = (values: Env) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  const previousCwd = process.cwd();
  setEnv(env);
  process.chdir(repoRoot);
  try {
    return await captureOutput(async () => {
      const program = new Command("ferry").addCommand(command());
      const exitOverride = (parent: Command): void => {
        parent.exitOverride();
        for (const sub of parent.commands) exitOverride(sub);
      };
      exitOverride(program);
      try {
        await program.parseAsync(args, { from: "user" });
      } catch (error) {
        if (error instanceof CommanderError) {
          process.exitCode = error.exitCode;
        } else {
          printError(error);
          process.exitCode = 1;
        }
      }
    });
  } finally {
    process.chdir(previousCwd);
    setEnv(previousEnv);
  }
}
