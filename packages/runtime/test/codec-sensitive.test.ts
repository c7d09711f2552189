/**
 * A sensitive attribute (the store's User.passwordHash) is compared as any other and never shown: not in a diff, a
 * shadow mismatch, a whole item shown as missing on one side, nor a codec error.
 */
import { loadValidContract } from "@ferry/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { type Codec, CodecError, conceal, createCodec, type EntityValue, HIDDEN_VALUE } from "../src/codec/index.ts";
import { diffValues, ITEM_FIELD, type Mismatch, shownMismatch } from "../src/shadow/index.ts";
import { shownReport, type ValidationReport } from "../src/validation/index.ts";

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
    // The same value in another attribute, another tag.
    expect(conceal("$scrypt$first-secret", "User.passwordHash")).toBe(shown[0]?.left);
    expect(conceal("$scrypt$first-secret", "Other.secret")).not.toBe(shown[0]?.left);
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
    expect((error as CodecError).message).toBe(
      "User.passwordHash: does not fit its string type (what is wrong is not shown), got a hidden value (the attribute is sensitive)",
    );
    expect((error as CodecError).cause).toBeUndefined();
    expect((error as CodecError).message).not.toContain("12345");
    expect((error as CodecError).value).toBe(HIDDEN_VALUE);
    // Another attribute's error still says what it got.
    expect(() => codec.entity("User").attribute("email").check(12_345)).toThrow(/got 12345 \(number\)/);
  });
});

describe("what was kept before an attribute was marked sensitive", () => {
  it("shows as tags now: a shadow mismatch's fields and whole items, a validation report's fields", () => {
    const mismatch: Mismatch = {
      id: "m1",
      at: "2026-12-01T00:00:00.000Z",
      entity: "User",
      key: { id: "5" },
      servedBy: "mysql",
      shadowFrom: "dynamodb",
      correlationId: "req-1",
      fields: [
        { field: "passwordHash", served: "$scrypt$old-secret", shadow: "$scrypt$other-secret" },
        { field: "firstName", served: "Sam", shadow: "Samuel" },
        {
          field: ITEM_FIELD,
          served: JSON.stringify({ email: "sam@example.com", passwordHash: "$scrypt$old-secret" }),
          shadow: null,
        },
        { field: ITEM_FIELD, served: '{"email":"sam@example.com","passwordHash":"$scrypt$cut sh', shadow: null },
      ],
    };
    const shown = shownMismatch(codec, mismatch);
    expect(JSON.stringify(shown)).not.toContain("secret");
    expect(shown.fields[0]?.served).toMatch(TAG);
    expect(shown.fields[0]?.served).not.toBe(shown.fields[0]?.shadow);
    expect(shown.fields[1]).toEqual({ field: "firstName", served: "Sam", shadow: "Samuel" });
    expect(JSON.parse(shown.fields[2]?.served ?? "{}")).toEqual({
      email: "sam@example.com",
      passwordHash: shown.fields[0]?.served,
    });
    // A whole item cut short cannot be read back: hidden whole.
    expect(shown.fields[3]?.served).toBe("hidden");
    // A tag stays as it is; another entity's fields are left alone.
    expect(shownMismatch(codec, shown)).toEqual(shown);
    const product = { ...mismatch, entity: "Product", fields: [{ field: "name", served: "a", shadow: "b" }] };
    expect(shownMismatch(codec, product)).toEqual(product);

    const report = {
      id: "r1",
      entities: [
        {
          entity: "User",
          differences: [
            {
              entity: "User",
              kind: "mismatched",
              key: { id: "5" },
              fields: [
                { field: "passwordHash", mysql: "$scrypt$old-secret", dynamodb: null },
                { field: "email", mysql: "a@example.com", dynamodb: "b@example.com" },
              ],
            },
          ],
        },
      ],
    } as unknown as ValidationReport;
    const shownDifferences = shownReport(codec, report).entities[0]?.differences[0]?.fields;
    expect(shownDifferences?.[0]?.mysql).toBe(shown.fields[0]?.served);
    expect(shownDifferences?.[0]?.dynamodb).toBeNull();
    expect(shownDifferences?.[1]).toEqual({ field: "email", mysql: "a@example.com", dynamodb: "b@example.com" });
  });
});
