import { Command } from "commander";
import { adminCommand } from "./commands/admin.ts";
import { analyzeCommand } from "./commands/analyze.ts";
import { backfillCommand } from "./commands/backfill.ts";
import { contractCommand } from "./commands/contract.ts";
import { generateCommand } from "./commands/generate.ts";
import { outboxCommand } from "./commands/outbox.ts";
import { phaseCommand } from "./commands/phase.ts";
import { seedCommand } from "./commands/seed.ts";
import { stackCommand } from "./commands/stack.ts";
import { startCommand } from "./commands/start.ts";
import { tablesCommand } from "./commands/tables.ts";
import { validateCommand } from "./commands/validate.ts";

export function buildProgram(): Command {
  const program = new Command("ferry")
    .description("move a live application from MySQL to DynamoDB with no downtime and nothing lost")
    .version("0.1.0")
    .showHelpAfterError("(add --help for usage)")
    // `ferry analyze capture --out X`: options after a subcommand belong to it, not to `analyze`.
    .enablePositionalOptions()
    .addHelpText(
      "after",
      "\nConnections come from flags or the environment: MYSQL_URL (mysql://user:pass@host:port/db),\nDYNAMODB_ENDPOINT (unset means AWS itself), AWS_REGION, FERRY_TABLE_PREFIX; else from `ferry stack up`.",
    );
  program.addCommand(stackCommand());
  program.addCommand(seedCommand());
  program.addCommand(startCommand());
  program.addCommand(contractCommand());
  program.addCommand(analyzeCommand());
  program.addCommand(generateCommand());
  program.addCommand(tablesCommand());
  program.addCommand(outboxCommand());
  program.addCommand(phaseCommand());
  program.addCommand(backfillCommand());
  program.addCommand(validateCommand());
  program.addCommand(adminCommand());
  return program;
}
