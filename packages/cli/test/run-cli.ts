import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ...` as a user would (a separate node process), with extra environment. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
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
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
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
