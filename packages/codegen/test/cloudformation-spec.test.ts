/**
 * The CloudFormation template `ferry tables show --format cloudformation` writes, checked against AWS's own
 * specification of AWS::DynamoDB::Table (from @aws-cdk/aws-service-spec, the CloudFormation resource specification AWS
 * publishes): for the store's contract, and for a contract with every table shape (provisioned, no sort key, an index
 * without a sort key, keys only). And the check itself finds what is wrong.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Contract, loadValidContract } from "@ferry/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { cloudFormationTemplate } from "../src/tables/index.ts";
import { resourceProblems } from "./resource-spec.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
let store: Contract;

beforeAll(async () => {
  store = await loadValidContract(join(root, "contract/store.yaml"));
});

/** Every resource of a template, with the problems the specification finds in it. */
async function problemsOf(template: { Resources: Record<string, { Type: string; Properties: unknown }> }) {
  const found: Record<string, string[]> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    found[id] = await resourceProblems(resource.Type, resource.Properties);
  }
  return found;
}

describe("the CloudFormation template against AWS's resource specification", () => {
  it("conforms for the store's contract", async () => {
    const template = cloudFormationTemplate(store, { prefix: "prod_" });
    const found = await problemsOf(template);
    expect(Object.keys(found).length).toBeGreaterThan(0);
    for (const problems of Object.values(found)) expect(problems).toEqual([]);
  });

  it("conforms for every table shape a contract can state", async () => {
    const shapes: Pick<Contract, "name" | "tables"> = {
      name: "shapes",
      tables: {
        provisioned: {
          partitionKey: "PK",
          sortKey: "SK",
          billingMode: "PROVISIONED",
          indexes: {
            byOwner: { partitionKey: "GSI1PK", sortKey: "GSI1SK", projection: "KEYS_ONLY" },
            byName: { partitionKey: "GSI2PK" },
          },
        },
        plain: { partitionKey: "id" },
      },
    } as Pick<Contract, "name" | "tables">;
    const found = await problemsOf(cloudFormationTemplate(shapes));
    expect(Object.keys(found)).toHaveLength(2);
    for (const problems of Object.values(found)) expect(problems).toEqual([]);
  });

  it("finds an unknown property, a missing required one and a value of the wrong type", async () => {
    const template = cloudFormationTemplate(store);
    const [first] = Object.values(template.Resources);
    if (!first) throw new Error("no resource");
    const broken = JSON.parse(JSON.stringify(first.Properties)) as Record<string, unknown> & {
      KeySchema: Array<Record<string, unknown>>;
      GlobalSecondaryIndexes?: Array<Record<string, unknown>>;
    };
    broken.Colour = "blue";
    delete (broken.KeySchema[0] as Record<string, unknown>).KeyType;
    broken.BillingMode = 7;
    const problems = await resourceProblems("AWS::DynamoDB::Table", broken);
    expect(problems).toHaveLength(3);
    expect(problems).toContain("AWS::DynamoDB::Table.KeySchema[0] (KeySchema).KeyType: required, and missing");
    expect(problems).toContain("AWS::DynamoDB::Table.BillingMode: a string was expected, got 7");
    expect(problems.find((problem) => problem.startsWith("AWS::DynamoDB::Table.Colour: not a property"))).toBeDefined();
    expect(await resourceProblems("AWS::DynamoDB::Tabel", {})).toEqual([
      "AWS::DynamoDB::Tabel is not a resource type of the specification",
    ]);
  });
});
