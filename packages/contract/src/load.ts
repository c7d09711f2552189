/** Reading a contract: YAML (keeping the Document for writing back), the JSON Schema, then the rules. */

import { readFile } from "node:fs/promises";
import { type Document, LineCounter, parseDocument } from "yaml";
import { ContractError, ContractFileError, type ContractIssue, type ContractProblem } from "./issues.ts";
import { locate } from "./locate.ts";
import type { Loose } from "./loose.ts";
import type { Contract } from "./model.ts";
import { checkContractRules } from "./rules.ts";
import { checkSchema } from "./schema.ts";

export interface ContractLoadResult {
  file: string;
  /** The contract, when it has no errors. */
  contract: Contract | undefined;
  /** The parsed YAML, comments included: change it with applyToDocument, write it with stringifyContract. */
  document: Document;
  /** The plain value the YAML holds, errors or not (undefined when the YAML itself is broken). */
  value: unknown;
  /** Every error, in file order. */
  errors: ContractIssue[];
}

/**
 * All problems of a contract value, by path: the JSON Schema's, then the cross-reference rules' on whatever parts
 * have the right shape (so one run reports everything it can).
 */
export function validateContract(value: unknown): ContractProblem[] {
  const { problems, usable } = checkSchema(value);
  if (usable === undefined || usable === null) return problems;
  return [...problems, ...checkContractRules(usable as Loose<Contract>)];
}

/** Parses and checks a contract's text; `file` names it in errors. */
export function parseContract(text: string, file: string): ContractLoadResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const errors = document.errors.map((error): ContractIssue => {
      const position = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
      return { file, line: position.line, column: position.col, message: yamlMessage(error.message), path: [] };
    });
    return { file, contract: undefined, document, value: undefined, errors };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      file,
      contract: undefined,
      document,
      value: undefined,
      errors: [{ file, line: 1, column: 1, message: yamlMessage(message), path: [] }],
    };
  }
  const errors = validateContract(value)
    .map((problem): ContractIssue => {
      const { line, column } = locate(document, lineCounter, text, problem.path, problem.target, problem.offset);
      return {
        file,
        line,
        column,
        message: problem.message,
        ...(problem.hint ? { hint: problem.hint } : {}),
        path: problem.path,
      };
    })
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.order - b.order)
    .map(({ issue }) => issue);
  return { file, contract: errors.length === 0 ? (value as Contract) : undefined, document, value, errors };
}

/** Reads and checks a contract file. Throws ContractFileError only when the file cannot be read. */
export async function loadContract(path: string): Promise<ContractLoadResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES"
            ? "permission denied"
            : error instanceof Error
              ? error.message
              : String(error);
    throw new ContractFileError(
      path,
      `cannot read contract ${path}: ${reason}`,
      code === "ENOENT"
        ? "contracts live in contract/, e.g. contract/store.yaml (`ferry analyze` writes one)"
        : undefined,
      { cause: error },
    );
  }
  return parseContract(text, path);
}

/** Reads a contract that must be valid: throws ContractError with every problem otherwise. */
export async function loadValidContract(path: string): Promise<Contract> {
  const result = await loadContract(path);
  if (!result.contract) throw new ContractError(path, result.errors);
  return result.contract;
}

/** yaml's first line, without its position (we give our own) and with a lower-case start. */
function yamlMessage(message: string): string {
  const first = (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").trim();
  return first.charAt(0).toLowerCase() + first.slice(1);
}
