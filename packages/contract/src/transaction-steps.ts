/**
 * The small language of transaction steps (contract `transactions.*.steps`): step values that are literals or
 * references, and conditions such as "inventoryQuantity >= {quantity}". Parsed here once, for the contract's rules
 * and for the runtime that runs the steps.
 */
import type { StepValue, TransactionStep } from "./model.ts";

/** A literal value, or a reference to a field of the forEach element (`input` absent) or of a named input. */
export type StepOperand =
  | { kind: "literal"; value: string | number | boolean | null }
  | { kind: "ref"; input?: string; field: string; negate: boolean };

/** The comparisons a condition may make (`!=` is read as `<>`); on MySQL `=` and `<>` are NULL-safe. */
export const CONDITION_OPERATORS = ["=", "<>", "<", "<=", ">", ">="] as const;

export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export function isConditionOperator(value: unknown): value is ConditionOperator {
  return (CONDITION_OPERATORS as readonly unknown[]).includes(value);
}

export interface StepCondition {
  attribute: string;
  op: ConditionOperator;
  value: StepOperand;
}

/** A malformed step value or condition; `offset` is where in the text it goes wrong. */
export class StepSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "StepSyntaxError";
  }
}

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const REFERENCE = new RegExp(`^(-?)\\{(?:(${NAME})\\.)?(${NAME})\\}$`);
/** The operators as a condition may spell them, longest first so that `<=` is not read as `<`. */
const SPELLED_OPERATORS = [...CONDITION_OPERATORS, "!="].sort((a, b) => b.length - a.length);
const CONDITION = new RegExp(`^\\s*(${NAME})\\s*(${SPELLED_OPERATORS.join("|")})\\s*(.*?)\\s*$`);

/** A step value: `{field}`, `{input.field}`, `-{...}`, or a literal (a string without braces is a literal). */
export function parseStepValue(value: StepValue): StepOperand {
  if (typeof value !== "string") return { kind: "literal", value };
  const match = REFERENCE.exec(value);
  if (match) {
    const [, minus, input, field] = match as unknown as [string, string, string | undefined, string];
    return { kind: "ref", field, negate: minus === "-", ...(input === undefined ? {} : { input }) };
  }
  const brace = value.search(/[{}]/);
  if (brace >= 0) {
    throw new StepSyntaxError(
      `'${value}' is neither a reference nor a plain value`,
      brace,
      "a reference is the whole value: {field} (of the forEach element), {input.field}, or -{...} to negate",
    );
  }
  return { kind: "literal", value };
}

/** "attribute op value", where value is a reference or a number, true, false, null or a 'quoted string'. */
export function parseCondition(text: string): StepCondition {
  const match = CONDITION.exec(text);
  if (!match) {
    throw new StepSyntaxError(
      `'${text}' is not a condition`,
      0,
      `write a condition as \`attribute op value\`, op one of ${CONDITION_OPERATORS.join(" ")}, e.g. inventoryQuantity >= {quantity}`,
    );
  }
  const [, attribute, rawOp, rawValue] = match as unknown as [string, string, string, string];
  const op = (rawOp === "!=" ? "<>" : rawOp) as ConditionOperator;
  const at = text.indexOf(rawValue, text.indexOf(rawOp) + rawOp.length);
  let value: StepOperand;
  if (rawValue.startsWith("{") || rawValue.startsWith("-{")) {
    try {
      value = parseStepValue(rawValue);
    } catch (error) {
      if (error instanceof StepSyntaxError) throw new StepSyntaxError(error.message, at + error.offset, error.hint);
      throw error;
    }
    if (value.kind === "ref" && value.negate) {
      throw new StepSyntaxError(
        `a condition compares with a value, not a negated one`,
        at,
        "write the condition the other way",
      );
    }
  } else if (/^'(?:[^'\\]|\\.)*'$/.test(rawValue)) {
    value = { kind: "literal", value: rawValue.slice(1, -1).replace(/\\(.)/g, "$1") };
  } else if (/^-?\d+(?:\.\d+)?$/.test(rawValue)) {
    // Decimals stay exact strings; integers beyond 2^53 stay exact as strings too (the attribute's codec reads them).
    const whole = rawValue.includes(".") ? undefined : Number(rawValue);
    value = { kind: "literal", value: whole !== undefined && Number.isSafeInteger(whole) ? whole : rawValue };
  } else if (rawValue === "true" || rawValue === "false") {
    value = { kind: "literal", value: rawValue === "true" };
  } else if (rawValue === "null") {
    value = { kind: "literal", value: null };
  } else {
    throw new StepSyntaxError(
      `'${rawValue}' in condition '${text}' is not a value`,
      Math.max(at, 0),
      "compare with a reference ({field}, {input.field}), a number, true, false, null or a 'quoted string'",
    );
  }
  return { attribute, op, value };
}

export type StepOperation = "create" | "update" | "delete" | "check";

export const STEP_OPERATIONS: readonly StepOperation[] = ["create", "update", "delete", "check"];

/** What a step does and to which entity; undefined when it names none or several operations. */
export function stepOperation(
  step: Partial<TransactionStep>,
): { operation: StepOperation; entity: string } | undefined {
  const present = STEP_OPERATIONS.filter((operation) => typeof step[operation] === "string");
  if (present.length !== 1) return undefined;
  const operation = present[0] as StepOperation;
  return { operation, entity: step[operation] as string };
}
