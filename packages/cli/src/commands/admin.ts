/**
 * `ferry admin create-operator | operators`: the admin console's operator accounts, kept in the control table (never in
 * the data being migrated). There is no default password and no sign-up page: the first operator is made here, by
 * someone who can reach the control table.
 */
import type { Operator, OperatorRole, OperatorStore } from "@ferry/runtime";
import { Command, Option } from "commander";
import { type ControlTableOptions, controlTableConnection, withControlTableOptions } from "../control-table.ts";
import { note, say } from "../output.ts";

type ConnectionOptions = ControlTableOptions;

export function adminCommand(): Command {
  const admin = new Command("admin").description(
    "the admin console's operator accounts (kept in ferry's control table, so no phase locks anyone out)",
  );

  withControlTableOptions(admin.command("create-operator"))
    .description("make an operator account: the password is asked for twice, or read from stdin (--password-stdin)")
    .argument("<name>", "the log-in name: 2 to 32 lowercase letters, digits, '.', '_' or '-'")
    .addOption(
      new Option("--role <role>", "operator (acts and manages accounts) or viewer (reads)")
        .choices(["operator", "viewer"])
        .default("operator"),
    )
    .option("--password-stdin", "read the password from stdin (the first line) instead of asking for it")
    .option("--who <name>", "who makes the account, recorded with it (default: $USER)")
    .addHelpText(
      "after",
      `
The password has at least 12 characters; only its scrypt hash is stored. Log in to the console with it
(\`pnpm start\` prints the console's address).
Examples:
  pnpm ferry admin create-operator ada
  printf '%s\\n' "$ADMIN_PASSWORD" | pnpm ferry admin create-operator ci --role viewer --password-stdin`,
    )
    .action(
      async (
        name: string,
        options: ConnectionOptions & { role: OperatorRole; passwordStdin?: boolean; who?: string },
      ) => {
        const { operatorNameProblem, operatorPasswordProblem } = await import("@ferry/runtime");
        const nameProblem = operatorNameProblem(name);
        if (nameProblem) throw new Error(`${name}: ${nameProblem}`);
        const password =
          options.passwordStdin || !process.stdin.isTTY ? await passwordFromStdin() : await passwordTwice();
        const problem = operatorPasswordProblem(password);
        if (problem) throw new Error(problem);
        const made = await withOperators(options, "create the operator", (operators) =>
          operators.create({ name, password, role: options.role, by: options.who ?? process.env.USER ?? "cli" }),
        );
        say(`operator ${made.name} (${made.role}) created`);
        note("log in to the admin console with this name and password");
      },
    );

  withControlTableOptions(admin.command("operators"))
    .description("list the operator accounts")
    .option("--json", "print them as JSON")
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const list = await withOperators(options, "list the operators", (operators) => operators.list());
      if (options.json) {
        say(JSON.stringify(list, null, 2));
        return;
      }
      if (list.length === 0) {
        say("no operators yet: make the first one with `pnpm ferry admin create-operator <name>`");
        return;
      }
      say(columns([["name", "role", "state", "created", "by"], ...list.map(row)]));
    });
  return admin;
}

function row(operator: Operator): string[] {
  return [
    operator.name,
    operator.role,
    operator.disabled ? "disabled" : "active",
    operator.createdAt.slice(0, 19).replace("T", " "),
    operator.createdBy,
  ];
}

/** Rows as aligned columns, two spaces apart. */
function columns(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function withOperators<T>(
  options: ConnectionOptions,
  doing: string,
  work: (operators: OperatorStore) => Promise<T>,
): Promise<T> {
  const { dynamoDbLocation, dynamoDbProblem, OperatorAccountError, OperatorStore } = await import("@ferry/runtime");
  const { client, tablePrefix } = controlTableConnection(options);
  try {
    return await work(new OperatorStore(client, { tablePrefix: tablePrefix }));
  } catch (error) {
    if (error instanceof OperatorAccountError) throw error;
    throw dynamoDbProblem(error, await dynamoDbLocation(client), doing);
  } finally {
    client.destroy();
  }
}

/** The first line of stdin (what a pipe or a secret store hands over), without its line ending. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw new Error("no password on stdin (give it as the first line)");
  return line;
}

/** Asks for the password twice, without echoing it. */
async function passwordTwice(): Promise<string> {
  const { default: password } = await import("@inquirer/password");
  const first = await password({ message: "password (at least 12 characters):", mask: true });
  const again = await password({ message: "the same password again:", mask: true });
  if (first !== again) throw new Error("the two passwords differ; nothing was created");
  return first;
}
