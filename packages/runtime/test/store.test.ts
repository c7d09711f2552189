import { loadValidContract } from "@ferry/contract";
import { describe, expect, it } from "vitest";
import { contractCodec, DEFAULT_PAGE_LIMIT, pageOptions } from "../src/index.ts";
import { EVERY_TYPE_CONTRACT } from "../src/testing/index.ts";

const fixture = EVERY_TYPE_CONTRACT;

describe("contractCodec", () => {
  it("compiles a contract once: every store of a generated package shares its codec", async () => {
    const contract = await loadValidContract(fixture);
    const codec = contractCodec(contract);
    expect(contractCodec(contract)).toBe(codec);
    expect(codec.contract).toBe(contract);
    expect(codec.entities).toEqual(Object.keys(contract.entities));
    // Another contract object (another package, or one changed since) gets a codec of its own.
    expect(contractCodec(structuredClone(contract))).not.toBe(codec);
  });
});

describe("pageOptions", () => {
  it("takes the request's limit and cursor, and 50 items when it names no limit", () => {
    expect(DEFAULT_PAGE_LIMIT).toBe(50);
    expect(pageOptions({})).toStrictEqual({ limit: 50 });
    expect(pageOptions({ limit: 10 })).toStrictEqual({ limit: 10 });
    expect(pageOptions({ cursor: "c" })).toStrictEqual({ limit: 50, cursor: "c" });
    expect(pageOptions({ limit: 5, cursor: "c" })).toStrictEqual({ limit: 5, cursor: "c" });
  });
});
