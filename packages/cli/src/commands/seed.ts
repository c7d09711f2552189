import { redactMysqlUrl, resolveConnections } from "@ferry/stack";
import type { SeedPlan, SeedResult } from "@ferry/store";
import { Command } from "commander";
import { wholeNumber } from "../options.ts";
import { note, say, table } from "../output.ts";
import { ProgressBar } from "../progress.ts";

interface SeedOptions {
  users?: number;
  products?: number;
  orders?: number;
  seed: number;
  reset?: boolean;
  mysqlUrl?: string;
  quiet?: boolean;
}

export function seedCommand(): Command {
  return new Command("seed")
    .description(
      "create the store's MySQL schema if missing and load the demo data set, or a synthetic one of any size",
    )
    .option("--users <n>", "synthetic: number of users", wholeNumber())
    .option("--products <n>", "synthetic: number of products", wholeNumber())
    .option("--orders <n>", "synthetic: number of orders (each with 1-4 items)", wholeNumber())
    .option("--seed <s>", "synthetic: random seed; the same seed gives the same data", wholeNumber(), 1)
    .option("--reset", "drop the store's tables and load again when the database already has data")
    .option("--mysql-url <url>", "the database to seed (default: MYSQL_URL, else the local stack's, database `store`)")
    .option("-q, --quiet", "no progress bar")
    .addHelpText(
      "after",
      "\nWithout --users/--products/--orders it loads the demo data set (a shopper, two sellers, ~25 categories,\n~60 products, a few past orders). Any of them switches to a synthetic data set; the others default to 0.\n\nExamples:\n  pnpm ferry seed\n  pnpm ferry seed --users 10000 --products 2000 --orders 50000 --seed 7 --reset",
    )
    .action(async (options: SeedOptions) => {
      const { mysqlUrl } = resolveConnections({ mysqlUrl: options.mysqlUrl });
      const result = await runSeed(mysqlUrl, planFrom(options), options.reset ?? false, options.quiet ?? false);
      await printSeedResult(result, mysqlUrl);
    });
}

export function planFrom(options: Pick<SeedOptions, "users" | "products" | "orders" | "seed">): SeedPlan {
  const synthetic = options.users !== undefined || options.products !== undefined || options.orders !== undefined;
  if (!synthetic) return { kind: "demo" };
  return {
    kind: "synthetic",
    users: options.users ?? 0,
    products: options.products ?? 0,
    orders: options.orders ?? 0,
    seed: options.seed,
  };
}

export async function runSeed(mysqlUrl: string, plan: SeedPlan, reset: boolean, quiet: boolean): Promise<SeedResult> {
  const { seedStore } = await import("@ferry/store");
  const bar = new ProgressBar(quiet);
  note(
    `seeding ${plan.kind === "demo" ? "the demo data set" : "a synthetic data set"} into ${redactMysqlUrl(mysqlUrl)}`,
  );
  return seedStore({ mysqlUrl, plan, reset, onProgress: (p) => bar.update(p.table, p.done, p.total) });
}

export async function printSeedResult(result: SeedResult, mysqlUrl: string): Promise<void> {
  const total = Object.values(result.rows).reduce((sum, n) => sum + n, 0);
  const rows = Object.entries(result.rows).map(([name, n]) => [name, n.toLocaleString("en-US")] as const);
  say(`\nSeeded database \`${result.database}\` at ${redactMysqlUrl(mysqlUrl)} in ${result.seconds.toFixed(1)} s:`);
  say(
    table([
      ...rows,
      [
        "total",
        `${total.toLocaleString("en-US")} rows (${Math.round(total / Math.max(result.seconds, 0.001)).toLocaleString("en-US")} rows/s)`,
      ],
    ]),
  );
  if (result.demoAccounts) {
    const { DEMO_PASSWORD } = await import("@ferry/store");
    say(`\nDemo accounts (password: ${DEMO_PASSWORD}): ${result.demoAccounts.join(", ")}`);
  }
}
