/** The table definitions written next to generated code (tables.json), from the runtime's CreateTable inputs. */
import type { Contract } from "@ferry/contract";
import { createTableInputs, type TableNaming } from "@ferry/runtime";
import { generatedNotice } from "../notice.ts";

/**
 * The table definitions as JSON text, the file written next to generated code: CreateTable inputs under their
 * logical names (`ferry tables apply` puts FERRY_TABLE_PREFIX in front) unless a prefix is given, two-space
 * indented, keys in a fixed order, a final newline, so regenerating an unchanged contract gives the same bytes.
 */
export function tableDefinitionsJson(
  contract: Pick<Contract, "name" | "tables">,
  naming: TableNaming = { prefix: "" },
  options: { source?: string } = {},
): string {
  const names =
    naming.prefix === ""
      ? "the physical table name is FERRY_TABLE_PREFIX + TableName"
      : `table names include the prefix '${naming.prefix}'`;
  const document = {
    $comment: [
      generatedNotice(options.source ?? `contract '${contract.name}'`),
      `CreateTable inputs for DynamoDB; ${names}.`,
    ],
    contract: contract.name,
    tables: createTableInputs(contract, naming),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
