/**
 * Secrets in a schema: the analyzer marks the attributes of secret-looking columns `sensitive` (the console never
 * shows their values), except where a key or a unique rule holds them, which the contract's check would refuse.
 */
import { parseContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { contractText } from "../src/analyze.ts";
import { introspect } from "../src/facts/index.ts";
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
