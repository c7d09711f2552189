/** The contract's JSON Schema (schema/contract.schema.json) and its errors in plain words. */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { type ContractPath, type ContractProblem, formatPath } from "./issues.ts";
import { didYouMean } from "./suggest.ts";

/** Absolute path of the contract's JSON Schema (for `# yaml-language-server: $schema=...` lines, relative to a contract). */
export const CONTRACT_SCHEMA_PATH = fileURLToPath(new URL("../schema/contract.schema.json", import.meta.url));

/** A JSON Schema object, loosely typed. */
export interface JsonSchema {
  [keyword: string]: unknown;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  definitions?: Record<string, JsonSchema>;
}

let schema: JsonSchema | undefined;
let validator: ValidateFunction | undefined;

/** The contract's JSON Schema (draft-07). */
export function contractSchema(): JsonSchema {
  schema ??= JSON.parse(readFileSync(CONTRACT_SCHEMA_PATH, "utf8")) as JsonSchema;
  return schema;
}

function compiled(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(
    contractSchema(),
  );
  return validator;
}

/** What the schema says about a value. */
export interface SchemaCheck {
  /** One problem per offending node, with the path to it. */
  problems: ContractProblem[];
  /**
   * A copy of the value without the nodes the schema rejected (wrong type, unknown property, value out of range), so
   * that the cross-reference rules can still run on the rest: every node left has the right shape, but required
   * properties may be missing. Undefined when the top level itself is not a map.
   */
  usable: unknown;
}

/** Checks a value against the contract's JSON Schema. */
export function checkSchema(value: unknown): SchemaCheck {
  const validate = compiled();
  if (validate(value)) return { problems: [], usable: value };
  const errors = validate.errors ?? [];
  const problems: ContractProblem[] = [];
  const seen = new Set<string>();
  let usable: unknown = structuredClone(value);
  for (const error of errors) {
    if (error.keyword === "propertyNames") continue; // reported by the inner keyword, with the name
    const path = pointerToPath(value, error.instancePath);
    const problem = describe(error, path);
    // One complaint per node about its value (ajv may add an enum error to a type error); every missing or unknown key.
    const perKey = error.keyword === "required" || error.keyword === "additionalProperties";
    const id = `${JSON.stringify(problem.path)} ${problem.target ?? "value"} ${perKey ? problem.message : ""}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(problem);
    }
    const keepsNode =
      error.keyword === "required" || error.keyword === "minProperties" || error.propertyName !== undefined;
    if (!keepsNode) {
      const removed =
        error.keyword === "additionalProperties" ? [...path, String(error.params.additionalProperty)] : path;
      if (removed.length === 0) usable = undefined;
      else removeAt(usable, removed);
    }
  }
  return { problems, usable };
}

function removeAt(root: unknown, path: ContractPath): void {
  let node = root;
  for (const segment of path.slice(0, -1)) {
    if (!isContainer(node)) return;
    node = (node as Record<string | number, unknown>)[segment];
  }
  const last = path[path.length - 1];
  if (Array.isArray(node) && typeof last === "number") node[last] = undefined;
  else if (isContainer(node) && last !== undefined) delete (node as Record<string, unknown>)[String(last)];
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/** "/entities/User/source/primaryKey/0" -> ["entities", "User", "source", "primaryKey", 0]. */
function pointerToPath(root: unknown, pointer: string): ContractPath {
  if (pointer === "") return [];
  const path: ContractPath = [];
  let node = root;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node = isContainer(node) ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

function where(path: ContractPath): string {
  return path.length === 0 ? "at the top level" : `in ${formatPath(path)}`;
}

function subject(path: ContractPath): string {
  return path.length === 0 ? "the contract" : formatPath(path);
}

/** How a YAML reader would name a JSON type. */
function typeNoun(type: string): string {
  switch (type) {
    case "object":
      return "a map";
    case "array":
      return "a list";
    case "integer":
      return "a whole number";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
    default:
      return type;
  }
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `'${value}'`;
  return String(value);
}

function describe(error: ErrorObject, path: ContractPath): ContractProblem {
  const parent = (error.parentSchema ?? {}) as JsonSchema;
  const title = typeof parent.title === "string" ? parent.title : undefined;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      const suggestion = didYouMean(name, known);
      return {
        path: [...path, name],
        target: "key",
        message: `unknown property '${name}' ${where(path)}${suggestion}`,
        ...(suggestion ? {} : { hint: `known properties: ${known.join(", ")}` }),
      };
    }
    case "required": {
      const name = String(params.missingProperty);
      const description = parent.properties?.[name]?.description;
      return {
        path,
        message: `missing property '${name}' ${where(path)}`,
        ...(description ? { hint: `${name}: ${description}` } : {}),
      };
    }
    case "type": {
      const expected = String(params.type)
        .split(",")
        .map((type) => typeNoun(type))
        .join(" or ");
      const actual = error.data === null || error.data === undefined ? "but it is empty" : `not ${show(error.data)}`;
      return { path, message: `${subject(path)} must be ${expected}, ${actual}` };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const noun = title ?? "value";
      if (typeof error.data === "string") {
        return {
          path,
          message: `unknown ${noun} '${error.data}' ${where(path)}${didYouMean(error.data, allowed)}`,
          hint: `expected one of: ${allowed.join(", ")}`,
        };
      }
      return { path, message: `${subject(path)} must be one of: ${allowed.join(", ")}; not ${show(error.data)}` };
    }
    case "const": {
      if (path.length === 1 && path[0] === "version") {
        return {
          path,
          message: `unsupported contract version ${show(error.data)}; this ferry reads version ${String(params.allowedValue)}`,
        };
      }
      return { path, message: `${subject(path)} must be ${JSON.stringify(params.allowedValue)}` };
    }
    case "pattern": {
      const noun = title ?? "value";
      if (error.propertyName !== undefined) {
        return {
          path: [...path, error.propertyName],
          target: "key",
          message: `invalid ${noun} '${error.propertyName}' ${where(path)}`,
          ...(parent.description ? { hint: parent.description } : {}),
        };
      }
      return {
        path,
        message: `invalid ${noun} ${show(error.data)} ${where(path)}`,
        ...(parent.description ? { hint: parent.description } : {}),
      };
    }
    case "minimum":
      return { path, message: `${subject(path)} must be at least ${String(params.limit)}, not ${show(error.data)}` };
    case "minLength":
      return { path, message: `${subject(path)} must not be empty` };
    case "minItems":
    case "minProperties":
      return {
        path,
        message:
          params.limit === 1
            ? `${subject(path)} must not be empty`
            : `${subject(path)} needs at least ${String(params.limit)} entries`,
      };
    default:
      return { path, message: `${subject(path)} ${error.message ?? "is invalid"}` };
  }
}
