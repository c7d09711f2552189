/**
 * The JSON Schema and the TypeScript model must say the same thing. Each key set below is checked by the compiler
 * against a model type (`satisfies Shape<T>`: a missing or extra key, or a wrong required flag, does not compile) and by the test
 * against the schema, so changing one without the other fails.
 */
import { describe, expect, it } from "vitest";
import {
  type AccessPattern,
  type Attribute,
  type AttributeType,
  type ColumnFacts,
  type Contract,
  contractSchema,
  type DynamoIndex,
  type DynamoTable,
  type Entity,
  type EntitySource,
  type ForeignKeyFacts,
  type IdStrategy,
  type JsonSchema,
  type KeyTemplates,
  type ListFilter,
  type ObservedQuery,
  type Operation,
  type SourceFacts,
  type Transaction,
  type TransactionInput,
  type TransactionStep,
  validateContract,
} from "../src/index.ts";

/** For each property of T: true when it is required, false when it is optional. */
type Shape<T> = { [K in keyof T]-?: object extends Pick<T, K> ? false : true };
type Entry<T> = NonNullable<T>[keyof NonNullable<T> & string];

const root = contractSchema();

function resolve(node: JsonSchema | undefined): JsonSchema {
  if (!node) throw new Error("no schema node");
  const ref = node.$ref;
  if (typeof ref === "string") {
    const name = ref.replace("#/definitions/", "");
    return resolve(root.definitions?.[name]);
  }
  return node;
}

/** The schema node at a path of property names ("*" for a record's entries). */
function at(...path: string[]): JsonSchema {
  let node = resolve(root);
  for (const segment of path) {
    const any = (node.additionalProperties ?? node.items) as JsonSchema;
    node = resolve(segment === "*" ? any : node.properties?.[segment]);
  }
  return node;
}

// true: required, false: optional.
const interfaces: Array<[string, Record<string, boolean>, JsonSchema]> = [
  [
    "Contract",
    {
      version: true,
      name: true,
      source: true,
      tables: true,
      entities: true,
      accessPatterns: false,
      transactions: false,
      notes: false,
    } satisfies Shape<Contract>,
    at(),
  ],
  [
    "SourceFacts",
    {
      engine: true,
      serverVersion: true,
      database: true,
      tables: false,
      workload: false,
      inferred: false,
      skippedTables: false,
      views: false,
      triggers: false,
      warnings: false,
    } satisfies Shape<SourceFacts>,
    at("source"),
  ],
  [
    "SourceFacts.workload",
    { origin: true, seconds: true, queries: true, digests: true, proposed: false } satisfies Shape<
      NonNullable<SourceFacts["workload"]>
    >,
    at("source", "workload"),
  ],
  [
    "SourceFacts.triggers.*",
    { table: true, timing: true, event: true } satisfies Shape<Entry<SourceFacts["triggers"]>>,
    at("source", "triggers", "*"),
  ],
  [
    "DynamoTable",
    { partitionKey: true, sortKey: false, billingMode: false, indexes: false } satisfies Shape<DynamoTable>,
    at("tables", "*"),
  ],
  [
    "DynamoIndex",
    { partitionKey: true, sortKey: false, projection: false } satisfies Shape<DynamoIndex>,
    at("tables", "*", "indexes", "*"),
  ],
  [
    "Entity",
    {
      table: true,
      source: true,
      key: true,
      indexes: false,
      attributes: true,
      unique: false,
      parent: false,
      wordIndexes: false,
      denormalized: false,
      id: false,
      notes: false,
    } satisfies Shape<Entity>,
    at("entities", "*"),
  ],
  ["KeyTemplates", { partition: true, sort: false } satisfies Shape<KeyTemplates>, at("entities", "*", "key")],
  [
    "Entity.indexes.*",
    { partition: true, sort: false } satisfies Shape<KeyTemplates>,
    at("entities", "*", "indexes", "*"),
  ],
  [
    "Entity.unique.*",
    { attributes: true } satisfies Shape<Entry<Entity["unique"]>>,
    at("entities", "*", "unique", "*"),
  ],
  [
    "Entity.parent",
    { entity: true, attributes: true } satisfies Shape<NonNullable<Entity["parent"]>>,
    at("entities", "*", "parent"),
  ],
  [
    "Entity.denormalized.*",
    { from: true, attribute: true, via: true } satisfies Shape<Entry<Entity["denormalized"]>>,
    at("entities", "*", "denormalized", "*"),
  ],
  [
    "Entity.id",
    { strategy: true, attribute: true } satisfies Shape<NonNullable<Entity["id"]>>,
    at("entities", "*", "id"),
  ],
  [
    "EntitySource",
    {
      table: true,
      primaryKey: true,
      rows: true,
      avgRowBytes: true,
      columns: false,
      uniqueKeys: false,
      foreignKeys: false,
      indexes: false,
    } satisfies Shape<EntitySource>,
    at("entities", "*", "source"),
  ],
  [
    "ForeignKeyFacts",
    { columns: true, references: true, onDelete: false, onUpdate: false } satisfies Shape<ForeignKeyFacts>,
    at("entities", "*", "source", "foreignKeys", "*"),
  ],
  [
    "ForeignKeyFacts.references",
    { table: true, columns: true } satisfies Shape<ForeignKeyFacts["references"]>,
    at("entities", "*", "source", "foreignKeys", "*", "references"),
  ],
  [
    "Attribute",
    { type: true, column: true, sensitive: false } satisfies Shape<Attribute>,
    at("entities", "*", "attributes", "*"),
  ],
  [
    "ColumnFacts",
    {
      name: true,
      sqlType: true,
      nullable: true,
      default: false,
      onUpdate: false,
      autoIncrement: false,
      generated: false,
      json: false,
      collation: false,
    } satisfies Shape<ColumnFacts>,
    at("entities", "*", "attributes", "*", "column"),
  ],
  [
    "AccessPattern",
    {
      entity: true,
      parameters: false,
      filters: false,
      returns: false,
      dynamodb: true,
      observed: false,
      inferred: false,
      notes: false,
    } satisfies Shape<AccessPattern>,
    at("accessPatterns", "*"),
  ],
  [
    "AccessPattern.inferred",
    { from: true } satisfies Shape<NonNullable<AccessPattern["inferred"]>>,
    at("accessPatterns", "*", "inferred"),
  ],
  [
    "ListFilter",
    { attribute: true, op: true, value: false } satisfies Shape<ListFilter>,
    at("accessPatterns", "*", "filters", "*"),
  ],
  [
    "AccessPattern.dynamodb",
    { operation: true, index: false, order: false, wordIndex: false, reason: false } satisfies Shape<
      AccessPattern["dynamodb"]
    >,
    at("accessPatterns", "*", "dynamodb"),
  ],
  [
    "ObservedQuery",
    { digest: true, sql: true, count: true, perSecond: true } satisfies Shape<ObservedQuery>,
    at("accessPatterns", "*", "observed"),
  ],
  [
    "Transaction",
    { description: false, entities: true, input: false, steps: false } satisfies Shape<Transaction>,
    at("transactions", "*"),
  ],
  [
    "TransactionInput",
    { entity: true, kind: true, list: false } satisfies Shape<TransactionInput>,
    at("transactions", "*", "input", "*"),
  ],
  [
    "TransactionStep",
    {
      create: false,
      update: false,
      delete: false,
      check: false,
      description: false,
      forEach: false,
      from: false,
      key: false,
      set: false,
      add: false,
      condition: false,
    } satisfies Shape<TransactionStep>,
    at("transactions", "*", "steps", "*"),
  ],
];

const attributeTypes = {
  string: true,
  integer: true,
  bigint: true,
  decimal: true,
  float: true,
  boolean: true,
  datetime: true,
  date: true,
  time: true,
  enum: true,
  set: true,
  json: true,
  binary: true,
  geometry: true,
} satisfies Record<AttributeType, true>;

/** Every value of a union of string literals, checked by the compiler: `satisfies Record<Union, true>`. */
const enums: Array<[string, Record<string, true>, JsonSchema]> = [
  ["AttributeType", attributeTypes, at("entities", "*", "attributes", "*", "type")],
  ["AttributeType (parameters)", attributeTypes, at("accessPatterns", "*", "parameters", "*")],
  [
    "Operation",
    {
      GetItem: true,
      Query: true,
      PutItem: true,
      UpdateItem: true,
      DeleteItem: true,
      unsupported: true,
    } satisfies Record<Operation, true>,
    at("accessPatterns", "*", "dynamodb", "operation"),
  ],
  [
    "IdStrategy",
    { "auto-increment": true, uuid: true, ulid: true, provided: true } satisfies Record<IdStrategy, true>,
    at("entities", "*", "id", "strategy"),
  ],
  [
    "SourceFacts.engine",
    { mysql: true, mariadb: true } satisfies Record<SourceFacts["engine"], true>,
    at("source", "engine"),
  ],
  [
    "trigger timing",
    { BEFORE: true, AFTER: true } satisfies Record<Entry<SourceFacts["triggers"]>["timing"], true>,
    at("source", "triggers", "*", "timing"),
  ],
  [
    "trigger event",
    { INSERT: true, UPDATE: true, DELETE: true } satisfies Record<Entry<SourceFacts["triggers"]>["event"], true>,
    at("source", "triggers", "*", "event"),
  ],
  [
    "DynamoTable.billingMode",
    { PAY_PER_REQUEST: true, PROVISIONED: true } satisfies Record<NonNullable<DynamoTable["billingMode"]>, true>,
    at("tables", "*", "billingMode"),
  ],
  [
    "DynamoIndex.projection",
    { ALL: true, KEYS_ONLY: true } satisfies Record<NonNullable<DynamoIndex["projection"]>, true>,
    at("tables", "*", "indexes", "*", "projection"),
  ],
  [
    "AccessPattern.returns",
    { one: true, many: true, none: true } satisfies Record<NonNullable<AccessPattern["returns"]>, true>,
    at("accessPatterns", "*", "returns"),
  ],
  [
    "AccessPattern.dynamodb.order",
    { asc: true, desc: true } satisfies Record<NonNullable<AccessPattern["dynamodb"]["order"]>, true>,
    at("accessPatterns", "*", "dynamodb", "order"),
  ],
];

/** A contract with every optional property set. */
const everything = {
  version: 1,
  name: "everything",
  notes: "all of it",
  source: {
    engine: "mysql",
    serverVersion: "8.0.36",
    database: "shop",
    workload: { origin: "capture.json", seconds: 60, queries: 1000, digests: 4 },
    skippedTables: { audit_log: "no primary key" },
    views: ["v_orders"],
    triggers: { trg_orders_ai: { table: "orders", timing: "AFTER", event: "INSERT" } },
    warnings: ["trigger trg_orders_ai will not run on DynamoDB"],
  },
  tables: {
    main: {
      partitionKey: "PK",
      sortKey: "SK",
      billingMode: "PROVISIONED",
      indexes: { GSI1: { partitionKey: "GSI1PK", sortKey: "GSI1SK", projection: "KEYS_ONLY" } },
    },
  },
  entities: {
    Customer: {
      table: "main",
      notes: "shoppers",
      source: {
        table: "customers",
        primaryKey: ["id"],
        rows: 10,
        avgRowBytes: 120.5,
        uniqueKeys: { uq_email: ["email"] },
        foreignKeys: {},
        indexes: { idx_name: ["name"] },
      },
      key: { partition: "CUSTOMER#{id}", sort: "CUSTOMER" },
      indexes: { GSI1: { partition: "EMAIL#{email}", sort: "CUSTOMER" } },
      attributes: {
        id: {
          type: "string",
          column: {
            name: "id",
            sqlType: "char(26)",
            nullable: false,
            default: "''",
            autoIncrement: false,
            generated: false,
            json: false,
          },
        },
        email: { type: "string", column: { name: "email", sqlType: "varchar(255)", nullable: false } },
        name: { type: "string", column: { name: "name", sqlType: "varchar(100)", nullable: false } },
      },
      unique: { email: { attributes: ["email"] } },
      id: { strategy: "ulid", attribute: "id" },
    },
    Address: {
      table: "main",
      source: {
        table: "addresses",
        primaryKey: ["customer_id", "label"],
        rows: 12,
        avgRowBytes: 80,
        foreignKeys: {
          fk_addresses_customer: {
            columns: ["customer_id"],
            references: { table: "customers", columns: ["id"] },
            onDelete: "CASCADE",
            onUpdate: "RESTRICT",
          },
        },
      },
      key: { partition: "CUSTOMER#{customerId}", sort: "ADDRESS#{label}" },
      attributes: {
        customerId: { type: "string", column: { name: "customer_id", sqlType: "char(26)", nullable: false } },
        label: { type: "string", column: { name: "label", sqlType: "varchar(20)", nullable: false } },
      },
      parent: { entity: "Customer", attributes: { customerId: "id" } },
      denormalized: { customerName: { from: "Customer", attribute: "name", via: "customerId" } },
    },
  },
  accessPatterns: {
    customerByEmail: {
      entity: "Customer",
      parameters: { email: "string" },
      returns: "one",
      dynamodb: { operation: "Query", index: "GSI1", order: "asc" },
      observed: {
        digest: "0123456789abcdef",
        sql: "SELECT * FROM customers WHERE email = ?",
        count: 5,
        perSecond: 0.1,
      },
      notes: "login",
    },
    customersByName: {
      entity: "Customer",
      returns: "many",
      dynamodb: { operation: "unsupported", reason: "a LIKE search" },
    },
  },
  transactions: {
    signUp: {
      description: "a customer and their first address",
      entities: ["Customer", "Address"],
      input: { customer: { entity: "Customer", kind: "new" } },
      steps: [{ create: "Customer", from: "customer" }],
    },
  },
} satisfies Contract;

interface Visited {
  path: string;
  node: JsonSchema;
}

function walkSchema(node: JsonSchema, path: string, out: Visited[]): void {
  out.push({ path, node });
  for (const [name, child] of Object.entries(node.properties ?? {})) walkSchema(child, `${path}.${name}`, out);
  for (const keyword of ["additionalProperties", "items", "propertyNames"] as const) {
    const child = node[keyword];
    if (typeof child === "object" && child !== null) walkSchema(child as JsonSchema, `${path}[${keyword}]`, out);
  }
  for (const [name, child] of Object.entries(node.definitions ?? {})) walkSchema(child, `#${name}`, out);
}

describe("the JSON Schema and the model", () => {
  it.each(interfaces)("%s has the model's properties, and the same ones required", (_name, keys, node) => {
    expect(Object.keys(node.properties ?? {}).sort()).toEqual(Object.keys(keys).sort());
    const required = Object.entries(keys)
      .filter(([, isRequired]) => isRequired)
      .map(([key]) => key);
    expect([...(node.required ?? [])].sort()).toEqual(required.sort());
    expect(node.additionalProperties).toBe(false);
  });

  it.each(enums)("%s has the model's values", (_name, values, node) => {
    expect([...((node.enum as string[] | undefined) ?? [])].sort()).toEqual(Object.keys(values).sort());
  });

  it("accepts a contract with every optional property set", () => {
    expect(validateContract(everything)).toEqual([]);
  });

  it("describes every property, closes every map, and names things with the name pattern", () => {
    const visited: Visited[] = [];
    walkSchema(root, "", visited);
    const undescribed = visited.flatMap(({ path, node }) =>
      Object.entries(node.properties ?? {})
        .filter(([, child]) => typeof child.description !== "string" || child.description === "")
        .map(([name]) => `${path}.${name}`),
    );
    expect(undescribed).toEqual([]);
    const open = visited
      .filter(({ node }) => node.properties !== undefined && node.additionalProperties !== false)
      .map(({ path }) => path);
    expect(open).toEqual([]);
    // Only transaction steps are free-form maps.
    const freeForm = visited
      .filter(({ node }) => node.type === "object" && !node.properties && node.additionalProperties === undefined)
      .map(({ path }) => path);
    expect(freeForm).toEqual([]);
    expect(root.definitions?.name?.pattern).toBe("^[A-Za-z_][A-Za-z0-9_]*$");
    for (const record of ["tables", "entities", "accessPatterns", "transactions"]) {
      expect(at(record).propertyNames, record).toEqual({ $ref: "#/definitions/name" });
    }
    expect(at("entities", "*", "attributes").propertyNames).toEqual({ $ref: "#/definitions/name" });
    expect(at("tables", "*", "indexes").propertyNames).toEqual({ $ref: "#/definitions/name" });
  });
});
