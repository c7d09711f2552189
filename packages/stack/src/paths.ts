import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The repository root: the nearest folder above `from` holding pnpm-workspace.yaml. */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/** Where ferry keeps its local state: `FERRY_HOME`, else `<repo>/.ferry`. */
export function ferryHome(): string {
  const fromEnv = process.env.FERRY_HOME;
  return fromEnv ? resolve(fromEnv) : join(findRepoRoot(), ".ferry");
}
