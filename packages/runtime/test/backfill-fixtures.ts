/** What the backfill ledger's test files share: a clock the test moves, planned segments, and a ledger per process. */
import { dynamoDbClient } from "@ferry/stack";
import type { TestStack } from "@ferry/stack/testing";
import { expect, onTestFinished } from "vitest";
import {
  BackfillLedger,
  type BackfillLedgerOptions,
  type ClaimResult,
  type PlannedSegment,
  type SegmentClaim,
} from "../src/backfill/index.ts";

/** 2030-01-02T03:04:05.678Z */
export const T0 = Date.parse("2030-01-02T03:04:05.678Z");

/** A clock the test sets (`clock.t += 1000`). */
export class TestClock {
  t = T0;
  readonly now = (): number => this.t;
  iso(offsetMs = 0): string {
    return new Date(T0 + offsetMs).toISOString();
  }
}

/** `count` segments of `entity` over integer ids, every 10: (undefined, 10], (10, 20], ..., (10 * (count - 1), end). */
export function segmentsOf(entity: string, count: number, estimatedRows = 10): PlannedSegment[] {
  return Array.from({ length: count }, (_, index) => ({
    entity,
    index,
    ...(index === 0 ? {} : { after: { id: index * 10 } }),
    ...(index === count - 1 ? {} : { through: { id: (index + 1) * 10 } }),
    estimatedRows,
  }));
}

/**
 * Ledgers over one control table of their own (`name`), inside a test: `process()` gives each call its own DynamoDB
 * client, as another process would have, destroyed when the test has finished.
 */
export function ledgers(stack: TestStack, name: string, options: Omit<BackfillLedgerOptions, "tablePrefix"> = {}) {
  const tablePrefix = `${stack.tablePrefix}${name}_`;
  return {
    tablePrefix,
    ledger: (more: Omit<BackfillLedgerOptions, "tablePrefix"> = {}) =>
      new BackfillLedger(stack.dynamodb(), { tablePrefix, ...options, ...more }),
    process: (more: Omit<BackfillLedgerOptions, "tablePrefix"> = {}) => {
      const client = dynamoDbClient(stack.dynamodbEndpoint);
      // Per test: a hook registered when this shared module is imported would be the first importing file's only.
      onTestFinished(() => client.destroy());
      return new BackfillLedger(client, { tablePrefix, ...options, ...more });
    },
  };
}

/** The error `promise` rejects with, checked to be a `type`. */
export async function rejection<T>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

/** The claim a claim() made (failing the test when it found none). */
export async function claimed(result: Promise<ClaimResult>): Promise<SegmentClaim> {
  const outcome = await result;
  if (outcome.kind !== "claimed") throw new Error(`expected a claim, found ${JSON.stringify(outcome)}`);
  return outcome.claim;
}
