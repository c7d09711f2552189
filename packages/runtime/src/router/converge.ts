/**
 * What makes a secondary write converge (docs/convergence.md): after the router has copied a write to the secondary
 * store, each item the write touched is checked against the authoritative store and re-synced from it when the two
 * differ. The copy itself may land late, in another order than the authoritative writes, twice (an SDK retry), or
 * after the item was deleted; the check after it repairs each of those, because it reads both stores after the copy
 * landed: whoever wrote the secondary item last also looks last (see the document for the argument).
 */
import type { Codec, EntityValue } from "../codec/index.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { entriesOf } from "../outbox/entry.ts";
import { KeySync } from "../outbox/sync.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";

/** A secondary write as the router describes it to the check (and, when that fails, to the outbox). */
export type SecondaryWrite = Omit<SecondaryFailure, "error">;

export class Convergence {
  private readonly sync: KeySync;

  constructor(
    private readonly codec: Codec,
    mysql: MysqlEntityStore,
    dynamodb: DynamoEntityStore,
  ) {
    this.sync = new KeySync(codec, mysql, dynamodb);
  }

  /**
   * Makes every item `write` touched on its secondary store equal to the authoritative one: two reads per item when
   * they already agree (one when `written` says what the copy left on the secondary store: the argument only needs
   * the secondary item's value at some instant after the copy), a sync (KeySync) when they do not. An item an update moved to a new key is synced under its
   * old key first (which deletes the stale item there), then under its new one. Rejects when a store cannot be read
   * or a sync cannot land; the caller hands the write to the outbox then.
   */
  async settle(write: SecondaryWrite, written?: { value: EntityValue | undefined }): Promise<void> {
    const entries = entriesOf(this.codec, { ...write, error: undefined }, 0);
    const only = entries.length === 1 ? entries[0] : undefined;
    if (written && only && !only.movedFrom) {
      // What the secondary item held right after the copy is known: as good as reading it after the copy.
      await this.sync.settleAfter(only.target, only.entity, only.key, written.value);
      return;
    }
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.movedFrom) await this.sync.sync(entry.target, entry.entity, entry.movedFrom);
        await this.sync.settle(entry.target, entry.entity, entry.key);
      }),
    );
  }
}
