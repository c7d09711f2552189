import { redactMysqlUrl, stackUp } from "@ferry/stack";
import { Command } from "commander";
import { note, say } from "../output.ts";
import { printSeedResult, runSeed } from "./seed.ts";
import { printStack } from "./stack.ts";

export function startCommand(): Command {
  return new Command("start")
    .description(
      "bring the local stack up, load the store's demo data if the database is empty, and print where everything is",
    )
    .option("-q, --quiet", "no progress bar")
    .action(async (options: { quiet?: boolean }) => {
      const state = await stackUp({ onProgress: note });
      const mysqlUrl = state.mysql?.url;
      if (!mysqlUrl) throw new Error("the stack came up without MySQL");
      const { isStoreSeeded } = await import("@ferry/store");
      if (await isStoreSeeded(mysqlUrl)) {
        note(`the store database at ${redactMysqlUrl(mysqlUrl)} already has data: left as it is`);
      } else {
        await printSeedResult(await runSeed(mysqlUrl, { kind: "demo" }, false, options.quiet ?? false), mysqlUrl);
      }
      printStack(state);
      say("\nNext: `pnpm ferry --help` lists every command; `pnpm ferry stack down` stops the stack.");
    });
}
