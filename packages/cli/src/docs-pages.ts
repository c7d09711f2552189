/**
 * The generated pages of docs/: the CLI reference (from the command definitions) and the contract reference (from
 * its JSON Schema). `pnpm docs:generate` writes them; `pnpm docs:generate --check` (and the CLI's test) fails when one is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { contractReference } from "@ferry/contract";
import { cliReference } from "./reference.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface DocPage {
  /** Relative to the repository's root. */
  path: string;
  text: string;
}

export function docPages(): DocPage[] {
  return [
    { path: "docs/cli.md", text: cliReference() },
    { path: "docs/contract.md", text: contractReference() },
  ];
}

/** The pages whose committed text differs from what the definitions generate now. */
export function staleDocPages(): string[] {
  return docPages()
    .filter((page) => {
      try {
        return readFileSync(`${ROOT}${page.path}`, "utf8") !== page.text;
      } catch {
        return true;
      }
    })
    .map((page) => page.path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const stale = staleDocPages();
    for (const path of stale) process.stderr.write(`${path} is stale: run pnpm docs:generate\n`);
    process.exitCode = stale.length > 0 ? 1 : 0;
  } else {
    for (const page of docPages()) {
      writeFileSync(`${ROOT}${page.path}`, page.text);
      process.stdout.write(`wrote ${page.path}\n`);
    }
  }
}
