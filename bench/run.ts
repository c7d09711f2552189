/**
 * `pnpm bench <name> [options]` runs bench/<name>.ts. `pnpm bench` runs every benchmark, one after the other, each in
 * a process of its own at its default size, and writes bench/results/summary.md (report.ts: writeSummary).
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeSummary } from "./report.ts";

// The AWS SDK warns that its 2027 releases need Node 22; ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter(
    (file) =>
      file.endsWith(".ts") && !file.endsWith(".config.ts") && !["run.ts", "report.ts", "timing.ts"].includes(file),
  )
  .map((file) => file.replace(/\.ts$/, ""))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (name === "--help" || name === "-h") {
  console.log(
    `usage: pnpm bench [<name> [options]]\n\nWith a name, runs that benchmark.\nWithout one, runs every benchmark at its default size and writes bench/results/summary.md.\n\nbenchmarks: ${available.join(", ")}`,
  );
  process.exit(0);
}
if (name === undefined) {
  const since = new Date();
  const outcomes = [];
  for (const bench of available) {
    console.log(`\n=== pnpm bench ${bench} (${outcomes.length + 1} of ${available.length})`);
    const started = performance.now();
    const failure = await new Promise<string | undefined>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), bench], {
        stdio: "inherit",
      });
      // A signal to this process alone (not its group) reaches the benchmark too, which stops its servers.
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      child.on("error", (error) => resolve(error.message));
      child.on("exit", (code, signal) => {
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        resolve(code === 0 ? undefined : `it exited with ${code ?? signal}`);
      });
    });
    const seconds = (performance.now() - started) / 1000;
    outcomes.push({ name: bench, seconds, ...(failure === undefined ? {} : { failure }) });
  }
  const { file, unfinished } = writeSummary(outcomes, since);
  console.log(`\nwritten: ${file}`);
  process.exit(unfinished > 0 ? 1 : 0);
}
if (!available.includes(name)) {
  console.error(`error: no benchmark named "${name}"; there are: ${available.join(", ")}`);
  process.exit(1);
}
const module = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { main(args: string[]): Promise<void> };
await module.main(rest);
