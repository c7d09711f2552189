/**
 * Secrets in a schema: the analyzer marks the attributes of secret-looking columns `sensitive` (the console never
 * shows their values), except where a key or a unique rule holds them, which the contract's check would refuse.
 */
import { parseContract, validateContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { contractText } from "../src/analyze.ts";
import { introspect } from "../src/facts/index.ts";
import { mergeContract } from "../src/merge/index.ts";
import { looksSecret } from "../src/propose/design.ts";
import { proposeContract } from "../src/propose/index.ts";

const stack = useTestStack();

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query(`
    CREATE TABLE accounts (
      id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      email VARCHAR(191) NOT NULL,
      password_hash VARCHAR(255) NOT NULL,
      api_token CHAR(40) NULL,
      totp_secret VARCHAR(64) NULL,
      salt VARBINARY(16) NOT NULL,
      tokens_used INT NOT NULL DEFAULT 0,
      passwordless TINYINT(1) NOT NULL DEFAULT 0,
      UNIQUE KEY uq_accounts_email (email),
      UNIQUE KEY uq_accounts_api_token (api_token)
    );
    CREATE TABLE api_keys (
      secret CHAR(40) NOT NULL PRIMARY KEY,
      account_id INT UNSIGNED NOT NULL,
      private_key TEXT NOT NULL,
      CONSTRAINT fk_api_keys_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    );
  `);
});

describe("secret-looking columns", () => {
  it("are sensitive unless a key or a unique rule holds them, and the contract passes its own check", async () => {
    const proposal = proposeContract(await introspect(await stack.mysql(), stack.database), undefined, {
      name: "secrets",
    });
    const sensitive = Object.fromEntries(
      Object.entries(proposal.contract.entities).map(([name, entity]) => [
        name,
        Object.entries(entity.attributes)
          .filter(([, attribute]) => attribute.sensitive === true)
          .map(([attribute]) => attribute),
      ]),
    );
    // api_token has a UNIQUE key and api_keys.secret is the primary key: their values are keys, so not sensitive;
    // tokens_used and passwordless only look alike.
    expect(sensitive).toEqual({ Account: ["passwordHash", "totpSecret", "salt"], ApiKey: ["privateKey"] });
    const { text } = contractText(undefined, proposal, true);
    expect(text).toContain("  passwordHash:\n        type: string\n        sensitive: true\n        column:\n");
    expect(parseContract(text, "secrets.yaml").errors).toEqual([]);
  });
});

describe("analyzing again", () => {
  it("keeps a sensitive attribute, unless a new UNIQUE key holds it: then it says so, and the contract still checks", async () => {
    const db = await stack.mysql();
    const facts = async () => introspect(db, stack.database);
    const reviewed = proposeContract(await facts(), undefined, { name: "secrets" }).contract;
    expect(reviewed.entities.Account?.attributes.totpSecret?.sensitive).toBe(true);
    await db.query("ALTER TABLE accounts ADD UNIQUE KEY uq_accounts_totp (totp_secret)");
    try {
      const proposal = proposeContract(await facts(), undefined, { name: "secrets" }).contract;
      const { contract, drift } = mergeContract(reviewed, proposal, { workloadGiven: false });
      expect(contract.entities.Account?.unique?.uq_accounts_totp).toEqual({ attributes: ["totpSecret"] });
      expect(contract.entities.Account?.attributes.totpSecret?.sensitive).toBeUndefined();
      expect(contract.entities.Account?.attributes.passwordHash?.sensitive).toBe(true);
      expect(drift.schema).toContain(
        "accounts.totp_secret is no longer sensitive: the new UNIQUE key uq_accounts_totp holds it, and its markers show its values",
      );
      expect(validateContract(contract)).toEqual([]);
    } finally {
      await db.query("ALTER TABLE accounts DROP KEY uq_accounts_totp");
    }
  });
});

describe("looksSecret", () => {
  it("goes by the words of a name, snake_case or camelCase, and by the type", () => {
    const secret = [
      "password_hash",
      "passwordHash",
      "apiToken",
      "reset_token",
      "totp_secret",
      "remember_digest",
      "pw_hash",
      "api_key",
      "privateKey",
      "signing_key",
      "recovery_codes",
      "salt",
      "APIKey",
      "OTPSecret",
      "userAPIToken",
      "password2",
    ];
    const notSecret = [
      "tokens_used",
      "passwordless",
      "token_expires_at",
      "token_type",
      "password_changed_at",
      "has_password",
      "api_key_id",
      "otp_enabled",
      "pwd_reset_required",
      "email",
      "keyboard",
      "pass",
      "weekly_digest",
      "digest_frequency",
    ];
    expect(secret.filter((name) => !looksSecret(name, "string"))).toEqual([]);
    expect(notSecret.filter((name) => looksSecret(name, "string"))).toEqual([]);
    expect(looksSecret("salt", "binary")).toBe(true);
    expect(looksSecret("otp", "integer")).toBe(false);
    expect(looksSecret("password_set", "boolean")).toBe(false);
  });
});
