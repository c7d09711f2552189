/** A condition on a stored row or item, for conditional updates, deletes and checks on either store. */
import type { ConditionOperator } from "@ferry/contract";

/** `attribute op value` must hold on the stored row or item, e.g. { attribute: "inventoryQuantity", op: ">=", value: 1 }. */
export interface Condition {
  attribute: string;
  op: ConditionOperator;
  value: unknown;
}
