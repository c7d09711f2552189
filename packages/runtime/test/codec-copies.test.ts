/** Denormalised copies filled in from the items they copy (withCopies), on fixtures/codec-edges.yaml's Edge. */
import { type Contract, loadValidContract } from "@ferry/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { createCodec, type EntityValue, withCopies } from "../src/codec/index.ts";
import { CODEC_EDGES_CONTRACT } from "./codec-fixtures.ts";

let contract: Contract;
beforeAll(async () => {
  contract = await loadValidContract(CODEC_EDGES_CONTRACT);
});

const owner: EntityValue = { id: 7, name: "Ann", since: "2026-01-02T03:04:05.678Z", rank: -3, level: "high" };
const edge: EntityValue = { ownerId: 7, code: "a", exact: null, kind: "Alpha" };

/** A source that holds `items` and records every read. */
function source(items: EntityValue[]) {
  const reads: Array<[string, EntityValue]> = [];
  const read = async (entity: string, key: EntityValue) => {
    reads.push([entity, key]);
    return items.find((item) => item.id === key.id);
  };
  return { reads, read };
}

describe("withCopies", () => {
  it("fills every missing copy from its source item, read once for all of them, and leaves the value alone", async () => {
    const { reads, read } = source([owner]);
    const given = { ...edge };
    const filled = await withCopies(createCodec(contract), "Edge", given, read);
    expect(filled).toEqual({
      ...edge,
      ownerName: "Ann",
      ownerSince: "2026-01-02T03:04:05.678Z",
      ownerRank: -3,
      ownerLevel: "high",
    });
    expect(reads).toEqual([["Owner", { id: 7 }]]);
    expect(given).toEqual(edge);
  });

  it("keeps the copies the caller gave and reads nothing when none is missing", async () => {
    const { reads, read } = source([owner]);
    const complete = { ...edge, ownerName: "Given", ownerSince: "x", ownerRank: 1, ownerLevel: "low" };
    expect(await withCopies(createCodec(contract), "Edge", complete, read)).toBe(complete);
    expect(reads).toEqual([]);
    const partial = { ...edge, ownerName: "Given" };
    expect(await withCopies(createCodec(contract), "Edge", partial, read)).toEqual({
      ...partial,
      ownerSince: "2026-01-02T03:04:05.678Z",
      ownerRank: -3,
      ownerLevel: "high",
    });
  });

  it("leaves a copy absent when its source item is missing or holds null there", async () => {
    const missing = source([]);
    // Strict: an absent copy is not there at all (not there as undefined).
    expect(await withCopies(createCodec(contract), "Edge", edge, missing.read)).toStrictEqual(edge);
    expect(missing.reads).toEqual([["Owner", { id: 7 }]]);
    const nulls = source([{ ...owner, name: null, rank: null }]);
    expect(await withCopies(createCodec(contract), "Edge", edge, nulls.read)).toStrictEqual({
      ...edge,
      ownerSince: "2026-01-02T03:04:05.678Z",
      ownerLevel: "high",
    });
  });

  it("reads nothing when the value names no source (its `via` is null or absent)", async () => {
    const { reads, read } = source([owner]);
    expect(await withCopies(createCodec(contract), "Edge", { ...edge, ownerId: null }, read)).toEqual({
      ...edge,
      ownerId: null,
    });
    const { ownerId: _, ...withoutVia } = edge;
    expect(await withCopies(createCodec(contract), "Edge", withoutVia, read)).toEqual(withoutVia);
    expect(reads).toEqual([]);
  });

  it("reads each source item once, two items through two attributes; skips a source keyed by several attributes", async () => {
    const twoWays = structuredClone(contract);
    const definition = twoWays.entities.Edge;
    if (!definition?.denormalized) throw new Error("codec-edges.yaml's Edge has no copies");
    // Copies through another attribute (kind names an Owner by id here), and from Word, whose key is two attributes.
    definition.denormalized.kindOwnerName = { from: "Owner", attribute: "name", via: "kind" };
    definition.denormalized.wordSense = { from: "Word", attribute: "sense", via: "code" };
    const { reads, read } = source([owner, { ...owner, id: "Alpha", name: "Bea" }]);
    const filled = await withCopies(createCodec(twoWays), "Edge", edge, read);
    expect(filled).toStrictEqual({
      ...edge,
      ownerName: "Ann",
      ownerSince: "2026-01-02T03:04:05.678Z",
      ownerRank: -3,
      ownerLevel: "high",
      kindOwnerName: "Bea",
    });
    expect(reads).toEqual([
      ["Owner", { id: 7 }],
      ["Owner", { id: "Alpha" }],
    ]);
  });

  it("copies nothing for an entity without copies, and returns the value itself", async () => {
    const { reads, read } = source([owner]);
    expect(await withCopies(createCodec(contract), "Owner", owner, read)).toBe(owner);
    expect(reads).toEqual([]);
  });
});
