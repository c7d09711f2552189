/**
 * `pnpm journey [options]`: the whole migration, 1 -> 5, under load (journey.ts), and its report. Exit 0 when every
 * promise was kept, 1 when the report lists problems, 2 on bad options.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type JourneyOptions, runJourney } from "./journey.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const HELP = `pnpm journey [options]

The whole migration on a fresh private stack, the way a team makes it: seed the store's MySQL database,
analyze it, check the contract and the generated package, apply the tables, start a fleet of store
processes under a continuous mixed load from another process (browse, search, cart, checkout, cancel,
email changes), then phase 2, backfill, validate, phase 3 (shadow reads, until the 3 -> 4 guard rail has
its comparisons), phase 4, validate; the way back, 4 -> 3 -> 2 (validate) -> 1 and a replay of the load's
log against MySQL; then on again to 5 (backfill, validations, shadow reads) and a replay against DynamoDB.
First a control run: the same load for as long, with no migration, to tell the migration's failures
from the load's own. Writes report.md and chart.svg.

  --users N          users to seed (default 10000)
  --products N       products to seed (default 2000)
  --orders N         orders to seed (default 100000)
  --seed N           the seed's random seed (default 1)
  --phase-seconds N  seconds of load in each phase (default 30)
  --stores N         store processes (default 2)
  --connections N    load connections per store process (default 8)
  --rate N           the load's requests per second over all store processes, at least one for each
                     connection (default: as fast as they answer)
  --no-control       skip the control run
  --no-faults        make no faults (by default, each at a random moment of its phase, from --seed: DynamoDB
                     Local killed for 10 s in phase 2, the backfill worker killed and run again, a store
                     process restarted during 3 -> 4, MySQL restarted in phase 4)
  --deadline-minutes N  stop everything and report failure after this long (default 90)
  --out DIR          where the report goes (default: a new folder under the system's temp folder)
  --help             this text

Ctrl-C (or SIGTERM) stops everything the journey started (its stack, the store processes, the load) and
writes a report that says it was interrupted.

Exit codes: 0 every promise kept; 1 the report lists problems (or it was interrupted); 2 bad options.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      users: { type: "string", default: "10000" },
      products: { type: "string", default: "2000" },
      orders: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      "phase-seconds": { type: "string", default: "30" },
      stores: { type: "string", default: "2" },
      connections: { type: "string", default: "8" },
      rate: { type: "string" },
      "no-control": { type: "boolean", default: false },
      "no-faults": { type: "boolean", default: false },
      "deadline-minutes": { type: "string", default: "90" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const numbers: Record<string, number> = {};
  for (const [name, min] of [
    ["users", 1],
    ["products", 1],
    ["orders", 0],
    ["seed", 0],
    ["phase-seconds", 2],
    ["stores", 1],
    ["connections", 1],
    ["deadline-minutes", 1],
    ["rate", 1],
  ] as const) {
    if (values[name] === undefined) continue;
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min) {
      console.error(`journey: --${name} must be a whole number from ${min}; got ${values[name]}`);
      return 2;
    }
    numbers[name] = value;
  }
  const connections = (numbers.stores ?? 0) * (numbers.connections ?? 0);
  if (numbers.rate !== undefined && numbers.rate < connections) {
    console.error(
      `journey: --rate must be at least one request a second for each of the load's ${connections} connections (--stores x --connections); got ${numbers.rate}`,
    );
    return 2;
  }
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), "ferry-journey-")));
  const options: JourneyOptions = {
    users: numbers.users ?? 0,
    products: numbers.products ?? 0,
    orders: numbers.orders ?? 0,
    seed: numbers.seed ?? 0,
    phaseSeconds: numbers["phase-seconds"] ?? 0,
    stores: numbers.stores ?? 0,
    connections: numbers.connections ?? 0,
    rate: numbers.rate,
    control: !values["no-control"],
    faults: !values["no-faults"],
    deadlineMs: (numbers["deadline-minutes"] ?? 0) * 60_000,
    out,
    say: (line) => console.log(line),
  };
  // Ctrl-C or SIGTERM: everything the journey started (its stack, the store processes, the load) is stopped first.
  const interrupt = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping everything the journey started ...`);
      interrupt.abort(signal);
    });
  }
  const result = await runJourney({ ...options, signal: interrupt.signal });
  console.log(`\nreport: ${result.report}`);
  if (result.problems.length === 0) {
    console.log("every promise kept");
    return 0;
  }
  console.log(`${result.problems.length} problem(s):\n${result.problems.map((p) => `  - ${p}`).join("\n")}`);
  return 1;
}

process.exitCode = await main();
