/** Problems found in a contract: by path (ContractProblem), then located in a file (ContractIssue). */

/** Where a value sits in the contract: map keys and list indexes from the top. */
export type ContractPath = Array<string | number>;

/** A problem with a contract value, found by the schema or the cross-reference rules; not yet tied to a file. */
export interface ContractProblem {
  path: ContractPath;
  message: string;
  hint?: string;
  /** Point at the value at `path` (default; for a missing property: the map that lacks it) or at its key. */
  target?: "value" | "key";
  /** A character offset inside a string value, e.g. a placeholder inside a key template. */
  offset?: number;
}

/** A problem located in a contract file; line and column are 1-based. */
export interface ContractIssue {
  file: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
  path: ContractPath;
}

/** "entities.User.key", "source.primaryKey[0]"; "" for the top level. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}

/** "file:line:col: error: message" per issue, each followed by an indented "hint: ..." line when there is one. */
export function formatContractErrors(errors: readonly ContractIssue[]): string {
  return errors
    .map((error) => {
      const head = `${error.file}:${error.line}:${error.column}: error: ${error.message}`;
      return error.hint ? `${head}\n  hint: ${error.hint.replace(/\n/g, "\n        ")}` : head;
    })
    .join("\n");
}

/** Every problem of one contract, thrown by loadValidContract; `issues` has them all, `hint` shows them formatted. */
export class ContractError extends Error {
  override readonly name = "ContractError";
  readonly hint: string;
  constructor(
    readonly file: string,
    readonly issues: ContractIssue[],
  ) {
    super(`${file}: ${issues.length} ${issues.length === 1 ? "error" : "errors"} in the contract`);
    this.hint = formatContractErrors(issues);
  }
}

/** The contract file could not be read (missing, a directory, no permission). */
export class ContractFileError extends Error {
  override readonly name = "ContractFileError";
  constructor(
    readonly file: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
