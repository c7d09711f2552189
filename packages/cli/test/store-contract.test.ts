import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "./run-cli.ts";

const stack = useTestStack();
const storeContract = join(repoRoot, "contract", "store.yaml");

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
});

describe("contract/store.yaml", () => {
  it("passes the contract check", async () => {
    const result = await runCli(["contract", "check", storeContract]);
    expect(result.stdout + result.stderr).toContain("ok (6 entities, 31 access patterns)");
    expect(result.code).toBe(0);
  });

  it("has not drifted from the store's MySQL migrations (analyze --check), and --check writes nothing", async () => {
    const before = readFileSync(storeContract, "utf8");
    const result = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--out", storeContract, "--check"]);
    expect(result.stderr).toContain("no schema drift since");
    expect(result.code).toBe(0);
    expect(readFileSync(storeContract, "utf8")).toBe(before);
  });
});
