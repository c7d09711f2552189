/**
 * IdAllocator: ids for the contract's `auto-increment` entities once DynamoDB is authoritative (phases 4-5), where no
 * MySQL server hands them out. One counter item per entity in the control table (`pk` ID#<Entity>, `sk` COUNTER,
 * attribute `last`: the highest id handed out); an allocation is one atomic ADD, so concurrent processes never get
 * the same id. While MySQL is still written (phase 4) the router first raises the counter to MySQL's highest id, so
 * the ids continue MySQL's sequence and MySQL accepts them.
 */
import { ConditionalCheckFailedException, type DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { controlKey, ensureControlTable } from "../control/table.ts";

/**
 * No counter for the entity: it is set from MySQL's highest id, on the first create in phase 4 or, in phase 5, from
 * the retired MySQL; without MySQL to read, phase 5 cannot invent it.
 */
export class IdCounterMissing extends Error {
  override readonly name = "IdCounterMissing";
  constructor(
    readonly entity: string,
    cause?: unknown,
  ) {
    super(
      `${entity}: no id counter exists yet, and MySQL's highest id could not be read to start it, so no id can be handed out; the counter starts from MySQL's highest id on the first create in phase 4 or 5 (make MySQL reachable, or pass the id)`,
      cause === undefined ? undefined : { cause },
    );
  }
}

export class IdAllocator {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: { tablePrefix: string },
  ) {}

  private key(entity: string) {
    return controlKey({ pk: `ID#${entity}`, sk: "COUNTER" });
  }

  /** Raises the counter to at least `floor` (never lowers it); creates it when there is none. */
  async raiseTo(entity: string, floor: bigint): Promise<void> {
    const table = await ensureControlTable(this.client, this.options.tablePrefix);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: this.key(entity),
          UpdateExpression: "SET #last = :floor",
          ConditionExpression: "attribute_not_exists(#last) OR #last < :floor",
          ExpressionAttributeNames: { "#last": "last" },
          ExpressionAttributeValues: { ":floor": { N: floor.toString() } },
        }),
      );
    } catch (error) {
      // Already at or above the floor.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** `count` consecutive new ids, in order. IdCounterMissing when the counter was never set. */
  async allocate(entity: string, count = 1): Promise<bigint[]> {
    if (!Number.isSafeInteger(count) || count < 1) throw new Error(`${entity}: cannot allocate ${count} ids`);
    const table = await ensureControlTable(this.client, this.options.tablePrefix);
    let last: bigint;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: this.key(entity),
          UpdateExpression: "ADD #last :count",
          ConditionExpression: "attribute_exists(#last)",
          ExpressionAttributeNames: { "#last": "last" },
          ExpressionAttributeValues: { ":count": { N: String(count) } },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      last = BigInt(out.Attributes?.last?.N ?? "0");
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new IdCounterMissing(entity);
      throw error;
    }
    return Array.from({ length: count }, (_, i) => last - BigInt(count - 1 - i));
  }
}
