/**
 * `ferry analyze`: live MySQL (+ an observed workload) -> a draft contract, or an update of an existing
 * one that keeps every human decision and reports schema drift.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyToDocument,
  type Contract,
  checkSchema,
  createContractDocument,
  formatContractErrors,
  parseContract,
  stringifyContract,
} from "@ferry/contract";
import { connectMysql, StackError, withDatabase } from "@ferry/stack";
import { introspect } from "./facts/index.ts";
import type { SchemaFacts } from "./facts/types.ts";
import { type DriftReport, mergeContract } from "./merge/index.ts";
import { byCodePoint } from "./propose/canonical.ts";
import { type Proposal, type ProposeOptions, proposeContract } from "./propose/index.ts";
import { readDigestSummary, readGeneralLogFile } from "./workload/index.ts";
import type { Workload } from "./workload/types.ts";

export interface AnalyzeInput extends ProposeOptions {
  mysqlUrl: string;
  database: string;
  /** Saved workloads: general-log files or JSON from `ferry analyze capture`. */
  workloadFiles?: readonly string[];
  /** Also read performance_schema digests when the server has them on (default true). */
  digests?: boolean;
}

export interface Analysis {
  facts: SchemaFacts;
  workload: Workload | undefined;
  proposal: Proposal;
}

/** Reads a saved workload: JSON written by `ferry analyze capture`, else a general-log file. */
export async function readWorkloadFile(path: string, database: string): Promise<Workload> {
  if (!existsSync(path)) throw new StackError(`workload file not found: ${path}`);
  if (path.endsWith(".json")) {
    let parsed: Workload;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8")) as Workload;
    } catch (error) {
      throw new StackError(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, {
        hint: "a workload file is JSON written by `ferry analyze capture`, or a general-log file (not ending in .json)",
      });
    }
    if (!Array.isArray(parsed.statements))
      throw new StackError(`${path} is not a workload saved by ferry analyze capture`);
    return parsed;
  }
  return readGeneralLogFile(path, { database });
}

/** Several workloads as one: counts add up per digest, windows add up. */
export function combineWorkloads(workloads: readonly Workload[]): Workload | undefined {
  if (workloads.length === 0) return undefined;
  if (workloads.length === 1) return workloads[0];
  const seconds = workloads.reduce((sum, w) => sum + w.seconds, 0);
  const byDigest = new Map<string, Workload["statements"][number]>();
  for (const workload of workloads) {
    for (const statement of workload.statements) {
      const known = byDigest.get(statement.digest);
      if (known) known.count += statement.count;
      else byDigest.set(statement.digest, { ...statement });
    }
  }
  const statements = [...byDigest.values()]
    .map((s) => ({ ...s, perSecond: s.count / Math.max(1, seconds) }))
    .sort((a, b) => b.count - a.count || byCodePoint(a.digest, b.digest));
  return {
    origin: workloads.map((w) => w.origin).join(" + "),
    seconds,
    queries: workloads.reduce((sum, w) => sum + w.queries, 0),
    statements,
  };
}

export async function analyze(input: AnalyzeInput): Promise<Analysis> {
  const connection = await connectMysql(withDatabase(input.mysqlUrl, undefined));
  let facts: SchemaFacts;
  const workloads: Workload[] = [];
  try {
    facts = await introspect(connection, input.database);
    if (input.digests !== false) {
      const digests = await readDigestSummary(connection, { database: input.database });
      if (digests && digests.statements.length > 0) workloads.push(digests);
    }
  } finally {
    await connection.end();
  }
  for (const file of input.workloadFiles ?? []) workloads.push(await readWorkloadFile(file, input.database));
  const workload = combineWorkloads(workloads);
  return { facts, workload, proposal: proposeContract(facts, workload, input) };
}

/** The JSON Schema for editors, relative to the contract file's folder. */
export function schemaPathFor(contractFile: string): string {
  const schema = fileURLToPath(new URL("../../contract/schema/contract.schema.json", import.meta.url));
  const path = relative(dirname(resolve(contractFile)), schema);
  return path.startsWith(".") ? path : `./${path}`;
}

export interface ContractUpdate {
  text: string;
  /** Absent for a new file. */
  drift?: DriftReport;
  contract: Contract;
}

/** A new contract file's text, or the existing file updated in place (comments and order kept). */
export function contractText(file: string | undefined, proposal: Proposal, workloadGiven: boolean): ContractUpdate {
  if (!file || !existsSync(file)) {
    const document = createContractDocument(proposal.contract, {
      schemaPath: schemaPathFor(file ?? "contract/contract.yaml"),
      comments: proposal.comments,
    });
    return { text: stringifyContract(document), contract: proposal.contract };
  }
  const loaded = parseContract(readFileSync(file, "utf8"), file);
  // Broken references (say, to a column MySQL dropped) do not stop an update; a broken structure does.
  const current =
    loaded.contract ?? (checkSchema(loaded.value).problems.length === 0 ? (loaded.value as Contract) : undefined);
  if (!current) {
    throw new StackError(`${file} cannot be updated: fix these first`, { hint: formatContractErrors(loaded.errors) });
  }
  const { contract, drift } = mergeContract(current, proposal.contract, { workloadGiven });
  applyToDocument(loaded.document, contract);
  return { text: stringifyContract(loaded.document), drift, contract };
}
