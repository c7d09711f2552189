import { displayUrl, ferryHome, type StackState, stackDown, stackStatus, stackUp } from "@ferry/stack";
import { Command } from "commander";
import { port } from "../options.ts";
import { note, say, table } from "../output.ts";

export function stackCommand(): Command {
  const stack = new Command("stack").description(
    "the local stack: DynamoDB Local and MySQL (a private MariaDB unless MYSQL_URL is set)",
  );

  stack
    .command("up")
    .description(
      "start DynamoDB Local and a private MariaDB (or use MYSQL_URL / DYNAMODB_ENDPOINT); reuses what already runs",
    )
    .option("--mysql-port <port>", "port for the private MariaDB (default: the previous one, else a free one)", port)
    .option("--dynamodb-port <port>", "port for DynamoDB Local (default: the previous one, else a free one)", port)
    .option("--persist", "keep DynamoDB Local's tables on disk under .ferry/dynamodb instead of in memory")
    .addHelpText(
      "after",
      "\nState, data and logs live in $FERRY_HOME (default: <repo>/.ferry). Other ferry commands read the\nURLs from .ferry/stack.json; `source .ferry/stack.env` exports them for a shell.",
    )
    .action(async (options: { mysqlPort?: number; dynamodbPort?: number; persist?: boolean }) => {
      const state = await stackUp({
        mysqlPort: options.mysqlPort,
        dynamodbPort: options.dynamodbPort,
        // Only when given: a running DynamoDB Local is kept as it is, and refused if --persist asks otherwise.
        persistDynamoDb: options.persist,
        onProgress: note,
      });
      printStack(state);
    });

  stack
    .command("down")
    .description("stop what `stack up` started (never a server it did not start)")
    .option("--purge", "also delete the private MariaDB's data, DynamoDB Local's data and the logs")
    .action(async (options: { purge?: boolean }) => {
      const { stopped } = await stackDown({ purge: options.purge ?? false, onProgress: note });
      say(
        stopped.length > 0
          ? `Local stack stopped (${stopped.join(", ")}).`
          : "Nothing to stop: the local stack was not running.",
      );
    });

  stack
    .command("status")
    .description("show what runs, where, and whether it answers (exit code 1 when something is down)")
    .option("--json", "print the status as JSON")
    .action(async (options: { json?: boolean }) => {
      const parts = await stackStatus();
      if (options.json) {
        say(JSON.stringify({ home: ferryHome(), parts }, null, 2));
      } else if (parts.length === 0) {
        say("The local stack is not up. Start it with: pnpm ferry stack up");
      } else {
        say(
          table(
            parts.map((part) => [
              part.name,
              `${part.answering ? "up  " : "DOWN"}  ${displayUrl(part.url) || "-"}  ${part.startedByFerry ? `pid ${part.pid}` : "outside server"}${part.problem ? `  (${part.problem})` : ""}`,
            ]),
          ),
        );
      }
      if (parts.length === 0 || parts.some((part) => !part.answering)) process.exitCode = 1;
    });

  return stack;
}

export function printStack(state: StackState): void {
  const rows: Array<[string, string]> = [];
  if (state.mysql) rows.push(["MySQL", displayUrl(state.mysql.url)]);
  if (state.dynamodb) rows.push(["DynamoDB", `${state.dynamodb.url}${state.dynamodb.inMemory ? "  (in memory)" : ""}`]);
  rows.push(["state", `${ferryHome()}/stack.json  (shell: source ${ferryHome()}/stack.env)`]);
  say(`\nLocal stack is up:\n${table(rows)}`);
}
