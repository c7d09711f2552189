import { formatContractErrors, loadContract } from "@ferry/contract";
import { Command } from "commander";
import { say } from "../output.ts";

interface CheckOptions {
  json?: boolean;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function contractCommand(): Command {
  const contract = new Command("contract").description("work with migration contracts (contract/*.yaml)");
  contract.addCommand(
    new Command("check")
      .description(
        "validate a contract: its YAML, the JSON Schema and every cross-reference (tables, indexes, attributes, key templates, column types, access patterns); reports all errors at once as file:line:column",
      )
      .argument("<file>", "the contract, e.g. contract/store.yaml")
      .option("--json", "print the errors as a JSON list on stdout ([] when the contract is valid)")
      .addHelpText(
        "after",
        "\nExit code 0 when the contract is valid, 1 otherwise.\n\nExamples:\n  pnpm ferry contract check contract/store.yaml\n  pnpm ferry contract check contract/store.yaml --json",
      )
      .action(async (file: string, options: CheckOptions) => {
        const result = await loadContract(file);
        if (options.json) {
          say(JSON.stringify(result.errors, null, 2));
        } else if (result.contract) {
          const entities = Object.keys(result.contract.entities).length;
          const patterns = Object.keys(result.contract.accessPatterns ?? {}).length;
          say(
            `${file}: ok (${count(entities, "entity", "entities")}, ${count(patterns, "access pattern", "access patterns")})`,
          );
        } else {
          process.stderr.write(`${formatContractErrors(result.errors)}\n`);
          process.stderr.write(`${file}: ${count(result.errors.length, "error", "errors")}\n`);
        }
        if (result.errors.length > 0) process.exitCode = 1;
      }),
  );
  return contract;
}
