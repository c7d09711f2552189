/**
 * The app's two stores as the console works on them (backfill, validation, repair, the outbox, the record inspector):
 * the same services the CLI builds from its flags, handed to the same runtime functions.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type BackfillRunOptions, type Codec, type Contract, createCodec, type MysqlExecutor } from "@ferry/runtime";
import { AdminError } from "./errors.ts";

export interface ConsoleStores {
  /** What runs and reports record as their contract (its name). */
  contractName: string;
  contract: Contract;
  codec: Codec;
  /** A pool on the app's MySQL database. */
  mysql: MysqlExecutor;
  client: DynamoDBClient;
  tablePrefix: string;
  /** How the console's backfill worker pages and leases (the CLI's hidden options; default: the runtime's). */
  backfillTuning?: Pick<BackfillRunOptions, "pageRows" | "concurrency" | "leaseMs">;
}

export function consoleStores(input: Omit<ConsoleStores, "codec" | "contractName">): ConsoleStores {
  return { ...input, contractName: input.contract.name, codec: createCodec(input.contract) };
}

/** The stores, or a 503 saying how the console was started without them. */
export function needStores(stores: ConsoleStores | undefined): ConsoleStores {
  if (stores === undefined) {
    throw new AdminError(
      503,
      "no_stores",
      "This console was started without the app's contract and MySQL, so it can only watch: start it with them (pnpm start does).",
    );
  }
  return stores;
}
