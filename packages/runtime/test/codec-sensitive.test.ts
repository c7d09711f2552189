/**
 * A sensitive attribute (the store's User.passwordHash) is compared as any other and never shown: not in a diff, a
 * shadow mismatch, a whole item shown as missing on one side, nor a codec error.
 */
import { loadValidContract } from "@ferry/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { type Codec, CodecError, createCodec, type EntityValue, HIDDEN_VALUE } from "../src/codec/index.ts";
import { diffValues, ITEM_FIELD } from "../src/shadow/index.ts";

let codec: Codec;

beforeAll(async () => {
  codec = createCodec(await loadValidContract(new URL("../../../contract/store.yaml", import.meta.url).pathname));
});

const user = (passwordHash: string): EntityValue => ({
  id: 5n,
  username: "sam",
  email: "sam@example.com",
  passwordHash,
  firstName: "Sam",
  lastName: null,
  isSeller: false,
  createdAt: "2026-01-02T03:04:05.000Z",
  updatedAt: "2026-01-02T03:04:05.000Z",
});

const TAG = /^hidden #[0-9a-f]{8}$/;

describe("a sensitive attribute", () => {
  it("is compared as any other, and shown as a tag that tells two values apart", () => {
    const users = codec.entity("User");
    expect(users.attribute("passwordHash").sensitive).toBe(true);
    expect(users.attribute("email").sensitive).toBe(false);
    const a = user("$scrypt$first-secret");
    const b = { ...user("$scrypt$second-secret"), firstName: "Samuel" };
    const diff = users.diff(a, b);
    expect(diff.map((d) => d.field)).toEqual(["passwordHash", "firstName"]);
    expect(diff[0]).toEqual({ field: "passwordHash", left: "$scrypt$first-secret", right: "$scrypt$second-secret" });
    const shown = users.shownDiff(diff);
    expect(shown[1]).toEqual({ field: "firstName", left: "Sam", right: "Samuel" });
    expect(shown[0]?.left).toMatch(TAG);
    expect(shown[0]?.right).toMatch(TAG);
    expect(shown[0]?.left).not.toBe(shown[0]?.right);
    // The same value, the same tag (within this process); null stays null.
    expect(users.shownValue(a).passwordHash).toBe(shown[0]?.left);
    expect(users.shownNormalized({ passwordHash: null, email: "x" })).toEqual({ passwordHash: null, email: "x" });
  });

  it("is a tag in shadow mismatches, field by field and in a whole item missing on one side", () => {
    const users = codec.entity("User");
    const fields = diffValues(users, user("$scrypt$served-secret"), user("$scrypt$shadow-secret"));
    expect(fields).toHaveLength(1);
    expect(fields[0]?.field).toBe("passwordHash");
    expect(fields[0]?.served).toMatch(TAG);
    expect(fields[0]?.shadow).toMatch(TAG);
    const missing = diffValues(users, user("$scrypt$served-secret"), undefined);
    expect(missing[0]?.field).toBe(ITEM_FIELD);
    expect(missing[0]?.served).toContain('"email":"sam@example.com"');
    expect(missing[0]?.served).not.toContain("secret");
    expect(JSON.parse(missing[0]?.served ?? "{}").passwordHash).toMatch(TAG);
  });

  it("is not in a codec error's message, nor in the error", () => {
    const hash = codec.entity("User").attribute("passwordHash");
    let error: unknown;
    try {
      hash.check(12_345);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toContain("a hidden value (the attribute is sensitive)");
    expect((error as CodecError).message).not.toContain("12345");
    expect((error as CodecError).value).toBe(HIDDEN_VALUE);
    // Another attribute's error still says what it got.
    expect(() => codec.entity("User").attribute("email").check(12_345)).toThrow(/got 12345 \(number\)/);
  });
});
