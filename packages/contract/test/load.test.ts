import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  ContractError,
  ContractFileError,
  type ContractIssue,
  formatContractErrors,
  loadContract,
  loadValidContract,
  parseContract,
} from "../src/index.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function lines(errors: readonly ContractIssue[]): string[] {
  return errors.map((error) => `${error.line}:${error.column} ${error.message}`);
}

describe("loadContract", () => {
  it("loads the store's contract without errors", async () => {
    const result = await loadContract(fixture("store.yaml"));
    expect(formatContractErrors(result.errors)).toBe("");
    expect(result.contract?.version).toBe(1);
    expect(Object.keys(result.contract?.entities ?? {})).toEqual([
      "User",
      "Category",
      "Product",
      "CartItem",
      "Order",
      "OrderItem",
    ]);
    expect(result.contract?.entities.Order?.attributes.totalAmount?.column.sqlType).toBe("decimal(12,2)");
    expect(result.contract?.entities.Category?.indexes?.GSI1?.sort).toBe("{name}");
    expect(Object.keys(result.contract?.accessPatterns ?? {})).toEqual([
      "getUserById",
      "getUserByEmail",
      "listCategoryChildren",
      "getProduct",
      "listProductsByCategory",
      "listProductsBySeller",
      "searchProductsByName",
      "updateProductStock",
      "getCart",
      "addToCart",
      "removeFromCart",
      "listOrdersByUser",
      "getOrder",
      "listOrderItems",
    ]);
    expect(result.document.toString().split("\n")[0]).toBe(
      "# yaml-language-server: $schema=../../schema/contract.schema.json",
    );
  });

  it("reports every mistake of a file at once, each at its own line and column, in file order", async () => {
    const result = await loadContract(fixture("mistakes.yaml"));
    expect(result.contract).toBeUndefined();
    expect(lines(result.errors)).toEqual([
      "2:10 unsupported contract version 2; this ferry reads version 1",
      "5:11 unknown engine 'postgres' in source.engine",
      "12:5 unknown property 'indexs' in tables.main; did you mean 'indexes'?",
      "20:53 entities.User.source.rows must be a whole number, not 'many'",
      "22:7 missing property 'partition' in entities.User.key",
      "22:7 unknown property 'partiton' in entities.User.key; did you mean 'partition'?",
      "26:15 unknown attribute type 'strnig' in entities.User.attributes.id.type; did you mean 'string'?",
      "29:15 type 'boolean' does not fit column 'email' (varchar(255)) in entities.User.attributes.email",
      "35:7 unknown index 'GSI9' of table 'main' in entities.User.indexes; did you mean 'GSI1'?",
      "37:29 unknown attribute 'emial' of User in entities.User.unique.email.attributes[0]; did you mean 'email'?",
      "38:48 unknown attribute 'idd' of User in entities.User.id.attribute; did you mean 'id'?",
      "50:43 unknown attribute 'userID' of Account in entities.Account.parent.attributes.userID; did you mean 'userId'?",
      "52:12 unknown table 'mian' in entities.Order.table; did you mean 'main'?",
      "54:30 unclosed '{' in key template 'ORDER#{id' (entities.Order.key.partition)",
      "63:25 unknown entity 'Usr' in entities.Order.denormalized.userName.from; did you mean 'User'?",
      "63:52 unknown attribute 'userId' of Order in entities.Order.denormalized.userName.via",
      "67:24 unknown attribute 'tokne' of Session in entities.Session.key.partition; did you mean 'token'?",
      "67:34 table 'flat' has no sort key, so entities.Session.key cannot have a sort template",
      "75:10 Login's key 'USER#{userId}' / 'LOGIN#{device}' can produce the same primary key as Account's 'USER#{userId}' / '{kind}' on table 'main'",
      "75:53 attribute 'device' can be null and cannot be part of the primary key (entities.Login.key.sort)",
      "86:10 missing sort template in entities.Invoice.key: table 'main' has a sort key (SK)",
      "91:3 invalid name 'order-line' in entities",
      "103:37 'reason' is only for unsupported patterns, not GetItem",
      "106:17 Query getAccounts needs parameter 'userId' for the key 'USER#{userId}'",
      "106:19 unknown attribute 'user' of Account in accessPatterns.getAccounts.parameters.user",
      "111:42 Account has no key templates for index 'GSI1' (accessPatterns.byKind.dynamodb.index)",
      "113:13 unknown entity 'Sesion' in accessPatterns.getSession.entity; did you mean 'Session'?",
      "117:23 parameter 'id' is integer but Invoice.id is bigint",
      "121:15 missing property 'reason' in accessPatterns.search.dynamodb",
      "124:22 unknown entity 'Acount' in transactions.signUp.entities[1]; did you mean 'Account'?",
    ]);
    // Each error carries its file, its path in the contract and, where it helps, a hint.
    const collision = result.errors.find((error) => error.message.startsWith("Login's key"));
    expect(collision).toEqual({
      file: fixture("mistakes.yaml"),
      line: 75,
      column: 10,
      message:
        "Login's key 'USER#{userId}' / 'LOGIN#{device}' can produce the same primary key as Account's 'USER#{userId}' / '{kind}' on table 'main'",
      hint: "give one of them a distinct literal prefix, e.g. 'ACCOUNT#{kind}' for Account's sort key",
      path: ["entities", "Login", "key"],
    });
    expect(result.errors.find((error) => error.line === 5)?.hint).toBe("expected one of: mysql, mariadb");
    expect(result.errors.find((error) => error.message.startsWith("missing property 'partition'"))?.path).toEqual([
      "entities",
      "User",
      "key",
    ]);
  });

  it("throws a ContractFileError for a file that is not there", async () => {
    const missing = fixture("nope.yaml");
    const error = await loadContract(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ContractFileError);
    expect(error).toMatchObject({
      file: missing,
      message: `cannot read contract ${missing}: no such file`,
      hint: "contracts live in contract/, e.g. contract/store.yaml (`ferry analyze` writes one)",
    });
  });

  it("loadValidContract returns the contract, or throws a ContractError with every issue", async () => {
    const contract = await loadValidContract(fixture("store.yaml"));
    expect(contract.name).toBe("store");
    const error = await loadValidContract(fixture("mistakes.yaml")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ContractError);
    // Every issue loadContract reports for the file (each listed in the test above), in the same order.
    expect((error as ContractError).issues).toEqual((await loadContract(fixture("mistakes.yaml"))).errors);
    expect((error as ContractError).issues).toHaveLength(30);
    expect((error as ContractError).message).toBe(`${fixture("mistakes.yaml")}: 30 errors in the contract`);
    expect((error as ContractError).hint.split("\n")[0]).toBe(
      `${fixture("mistakes.yaml")}:2:10: error: unsupported contract version 2; this ferry reads version 1`,
    );
  });

  it("reads a file written elsewhere", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-contract-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "tiny.yaml");
    await writeFile(file, "version: 1\nname: tiny\n");
    const result = await loadContract(file);
    expect(lines(result.errors)).toEqual([
      "1:1 missing property 'source' at the top level",
      "1:1 missing property 'tables' at the top level",
      "1:1 missing property 'entities' at the top level",
    ]);
  });
});

describe("parseContract: YAML problems", () => {
  it.each([
    ["a: 1\na: 2\n", ["2:1 map keys must be unique"]],
    ["version: 1\n\tname: x\n", ["2:1 tabs are not allowed as indentation"]],
    [
      "version: 1\nname: [a\n",
      ["3:1 flow sequence in block collection must be sufficiently indented and end with a ]"],
    ],
    ["", ["1:1 the contract must be a map, but it is empty"]],
    ["- 1\n", ["1:1 the contract must be a map, not a list"]],
  ])("%j", (text, expected) => {
    const result = parseContract(text, "f.yaml");
    expect(lines(result.errors)).toEqual(expected);
    expect(result.contract).toBeUndefined();
  });

  it("points a missing property at the first key of the map that lacks it, an empty value at its key", () => {
    const text = "version: 1\nname: x\nsource:\n  engine: mysql\n  database: d\ntables:\nentities: {}\n";
    expect(lines(parseContract(text, "f.yaml").errors)).toEqual([
      "4:3 missing property 'serverVersion' in source",
      "6:1 tables must be a map, but it is empty",
    ]);
  });

  it("points inside a key template at the offending placeholder, quoted or not", () => {
    const base = (partition: string) =>
      [
        "version: 1",
        "name: x",
        "source: { engine: mysql, serverVersion: '8', database: d }",
        "tables: { t: { partitionKey: PK } }",
        "entities:",
        "  A:",
        "    table: t",
        "    source: { table: a, primaryKey: [id], rows: 1, avgRowBytes: 1 }",
        "    key:",
        `      partition: ${partition}`,
        "    attributes:",
        "      id: { type: string, column: { name: id, sqlType: char(3), nullable: false } }",
        "",
      ].join("\n");
    expect(lines(parseContract(base("A#{idd}"), "f.yaml").errors)).toEqual([
      "10:20 unknown attribute 'idd' of A in entities.A.key.partition; did you mean 'id'?",
    ]);
    expect(lines(parseContract(base('"A#{idd}"'), "f.yaml").errors)).toEqual([
      "10:21 unknown attribute 'idd' of A in entities.A.key.partition; did you mean 'id'?",
    ]);
  });
});

describe("formatContractErrors", () => {
  it("prints file:line:col: error: message, then an indented hint", () => {
    const text = formatContractErrors([
      {
        file: "contract/store.yaml",
        line: 3,
        column: 7,
        message: "unknown table 'stor'",
        hint: "tables: store",
        path: [],
      },
      {
        file: "contract/store.yaml",
        line: 9,
        column: 1,
        message: "missing property 'name' at the top level",
        path: [],
      },
    ]);
    expect(text).toBe(
      [
        "contract/store.yaml:3:7: error: unknown table 'stor'",
        "  hint: tables: store",
        "contract/store.yaml:9:1: error: missing property 'name' at the top level",
      ].join("\n"),
    );
  });
});
