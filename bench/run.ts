/** `pnpm bench <name>` runs bench/<name>.ts; `pnpm bench` lists them. */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The AWS SDK warns that its 2027 releases need Node 22; ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && !["run.ts", "report.ts", "timing.ts"].includes(file))
  .map((file) => file.replace(/\.ts$/, ""))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === "--help" || name === "-h") {
  console.log(`usage: pnpm bench <name> [options]\n\nbenchmarks: ${available.join(", ")}`);
  process.exit(name ? 0 : 1);
}
if (!available.includes(name)) {
  console.error(`error: no benchmark named "${name}"; there are: ${available.join(", ")}`);
  process.exit(1);
}
const module = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { main(args: string[]): Promise<void> };
await module.main(rest);
