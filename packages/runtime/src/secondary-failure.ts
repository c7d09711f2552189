/**
 * A write the non-authoritative store refused: what the router hands to the outbox (its `onSecondaryFailure`), which
 * keeps it until a replay lands (docs/architecture.md, "Outbox").
 */
import type { EntityValue } from "./codec/index.ts";
import type { StoreName } from "./phases.ts";
import type { TransactionWrite } from "./transactions/plan.ts";

export interface SecondaryFailure {
  /** The entity written; for a transaction, the transaction's name. */
  entity: string;
  operation: "create" | "update" | "delete" | "transaction";
  store: StoreName;
  /** The item's primary key values, so the write can be replayed. */
  key: EntityValue;
  /** What was written to the authoritative store (create/update), for the replay. */
  value?: EntityValue;
  /** A transaction's writes as the authoritative store performed them (ids and defaults filled in), for the replay. */
  writes?: TransactionWrite[];
  error: unknown;
}
