/**
 * The record inspector's pages and JSON on real stores (the store's demo data on MariaDB, its tables on DynamoDB
 * Local): a user side by side, the field a change on one side made differ highlighted, the markers, the item as
 * stored; the same as JSON; refusals per field; values from the stores escaped; the validation report's link to it.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  applyTables,
  DynamoEntityStore,
  type EntityValue,
  encodeKey,
  MysqlEntityStore,
  storeValidationReport,
  type ValidationReport,
} from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleStores, consoleStores } from "../src/stores.ts";
import { inspectHref } from "../src/views/inspect.tsx";
import { readable, type TestConsole, testConsole } from "./console.ts";

const stack = useTestStack();
const HOSTILE = "<img src=x onerror=alert(1)>";
let stores: ConsoleStores;
let console: TestConsole;
let viewer: string;
// The console's MySQL is a pool (ConsoleStores), as pnpm start gives it.
let pool: ReturnType<typeof createMysqlPool> | undefined;
afterAll(async () => {
  await pool?.end();
});

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  const prefix = `${stack.tablePrefix}app_`;
  await applyTables(stack.dynamodb(), contract, { prefix });
  pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 4 });
  stores = consoleStores({ contract, mysql: pool, client: stack.dynamodb(), tablePrefix: prefix });
  console = await testConsole(stack, "inspect", { stores });
  viewer = await console.logIn("val");
});

const mysqlStore = () => new MysqlEntityStore(stores.mysql, stores.codec);
const dynamoStore = () => new DynamoEntityStore(stores.client, stores.codec, { tablePrefix: stores.tablePrefix });

/** A new user on both stores (as MySQL stored it: its id and defaults). */
async function newUser(name: string): Promise<EntityValue & { id: bigint }> {
  const row = await mysqlStore().create("User", {
    username: name,
    email: `${name}@example.com`,
    passwordHash: "x".repeat(60),
    firstName: HOSTILE,
    lastName: "Inspect",
    isSeller: false,
  });
  await dynamoStore().create("User", row);
  return row as EntityValue & { id: bigint };
}

/** How an id is written inside keys (zero-padded, so keys sort as numbers). */
const keyId = (id: bigint) => stores.codec.entity("User").render("{id}", { id });

async function page(path: string, cookie = viewer): Promise<{ status: number; html: string; text: string }> {
  const answer = await console.request(path, { cookie });
  const html = await answer.text();
  return { status: answer.status, html, text: readable(html) };
}

async function api(path: string, cookie = viewer): Promise<{ status: number; body: unknown }> {
  const answer = await console.request(path, { cookie });
  return { status: answer.status, body: await answer.json() };
}

describe("the record inspector", () => {
  it("shows a user side by side, highlights what a change on one side made differ, and answers the same as JSON", async () => {
    const user = await newUser("ines");
    const href = inspectHref("User", { id: user.id });
    expect(href).toBe(`/inspect?entity=User&key=${encodeURIComponent(`{"id":{"$bigint":"${user.id}"}}`)}`);

    const equal = await page(href);
    expect(equal.status).toBe(200);
    expect(equal.text).toContain(`User id=${user.id} On both stores. The row and the item are equal.`);
    expect(equal.text).toContain(
      `Side by side Field MySQL DynamoDB id ${user.id} ${user.id} username ines ines email ines@example.com ines@example.com`,
    );
    expect(equal.text).toContain(`firstName ${HOSTILE} ${HOSTILE} lastName Inspect Inspect isSeller false false`);
    expect(equal.text).toContain(
      "Unique markers Rule Marker Present Names this item " +
        "uq_users_email (email) UNIQUE#User#uq_users_email#ines@example.com yes yes " +
        "uq_users_username (username) UNIQUE#User#uq_users_username#ines yes yes",
    );
    expect(equal.text).toContain(
      `Key attributes Attribute Of Value PK table USER#${keyId(user.id)} SK table USER ` +
        `GSI1PK index GSI1 USER#USERNAME#ines GSI1SK index GSI1 ${keyId(user.id)} ` +
        `GSI2PK index GSI2 USER#EMAIL#ines@example.com GSI2SK index GSI2 ${keyId(user.id)}`,
    );
    const item = await stores.client.send(
      new GetItemCommand({
        TableName: `${stores.tablePrefix}main`,
        Key: stores.codec.entity("User").key({ id: user.id }),
        ConsistentRead: true,
      }),
    );
    const version = Number(item.Item?.__version?.N);
    expect(equal.text).toContain(`Bookkeeping Attribute Value __entity User __version ${version}`);
    expect(equal.text).toContain(
      `Attributes as stored Attribute Value createdAt ${user.createdAt} email ines@example.com`,
    );
    expect(equal.html).not.toContain('class="differs"');
    // The key's field filled in, and the same page from the form's per-field key.
    expect(equal.html).toContain(`name="id" value="${user.id}"`);
    expect((await page(`/inspect?entity=User&id=${user.id}`)).html).toBe(equal.html);

    // A sensitive attribute (the password hash) is never shown: its tag is.
    expect(equal.html).not.toContain("x".repeat(60));
    expect(equal.html).toMatch(/<td>passwordHash<\/td><td><span>hidden #[0-9a-f]{8}<\/span><\/td>/);

    // A value from the stores is text, never markup.
    expect(equal.html).not.toContain("<img src=x");
    expect(equal.html).toContain("&lt;img src=x onerror=alert(1)&gt;");

    // Changed on DynamoDB alone: that field, and only it, is highlighted.
    await dynamoStore().update("User", { id: user.id }, { lastName: "Changed" });
    const changed = await page(href);
    expect(changed.status).toBe(200);
    expect(changed.text).toContain("On both stores. 1 field differs.");
    expect(changed.html.match(/<tr class="differs">/g)).toHaveLength(1);
    expect(changed.html).toMatch(
      /<tr class="differs"><td>lastName<\/td><td><span>Inspect<\/span><\/td><td><span>Changed<\/span><\/td><\/tr>/,
    );

    const json = await api(`/api${href}`);
    expect(json.status).toBe(200);
    const id = { $bigint: String(user.id) };
    const plainRow = { ...user, id, passwordHash: expect.stringMatching(/^hidden #[0-9a-f]{8}$/) };
    expect(JSON.stringify(json.body)).not.toContain("x".repeat(60));
    expect(json.body).toEqual({
      entity: "User",
      key: { id },
      presence: "both",
      mysql: plainRow,
      dynamodb: { ...plainRow, lastName: "Changed" },
      item: {
        table: `${stores.tablePrefix}main`,
        keys: [
          { name: "PK", of: "table", value: `USER#${keyId(user.id)}` },
          { name: "SK", of: "table", value: "USER" },
          { name: "GSI1PK", of: "GSI1", value: "USER#USERNAME#ines" },
          { name: "GSI1SK", of: "GSI1", value: keyId(user.id) },
          { name: "GSI2PK", of: "GSI2", value: "USER#EMAIL#ines@example.com" },
          { name: "GSI2SK", of: "GSI2", value: keyId(user.id) },
        ],
        bookkeeping: { __entity: "User", __version: version + 1 },
        attributes: {
          createdAt: user.createdAt,
          email: "ines@example.com",
          firstName: HOSTILE,
          id: Number(user.id),
          isSeller: false,
          lastName: "Changed",
          passwordHash: expect.stringMatching(/^hidden #[0-9a-f]{8}$/),
          updatedAt: user.updatedAt,
          username: "ines",
        },
      },
      differences: [{ field: "lastName", mysql: "Inspect", dynamodb: "Changed" }],
      markers: [
        {
          rule: "uq_users_email",
          attributes: ["email"],
          key: "UNIQUE#User#uq_users_email#ines@example.com",
          present: true,
          owner: { PK: `USER#${keyId(user.id)}`, SK: "USER" },
          owned: true,
        },
        {
          rule: "uq_users_username",
          attributes: ["username"],
          key: "UNIQUE#User#uq_users_username#ines",
          present: true,
          owner: { PK: `USER#${keyId(user.id)}`, SK: "USER" },
          owned: true,
        },
      ],
    });
    // The per-field key answers the same.
    expect((await api(`/api/inspect?entity=User&id=${user.id}`)).body).toEqual(json.body);
  });

  it("says when a record is on one store only, or on neither", async () => {
    const user = await newUser("otto");
    await dynamoStore().delete("User", { id: user.id });
    const mysqlOnly = await page(inspectHref("User", { id: user.id }));
    expect(mysqlOnly.status).toBe(200);
    expect(mysqlOnly.text).toContain("On MySQL only: DynamoDB has no item for it.");
    expect(mysqlOnly.text).toContain("username otto no item email otto@example.com no item");
    expect(mysqlOnly.text).toContain(
      "uq_users_email (email) UNIQUE#User#uq_users_email#otto@example.com no: missing no " +
        "uq_users_username (username) UNIQUE#User#uq_users_username#otto no: missing no",
    );
    expect(mysqlOnly.text).not.toContain("Key attributes");
    const json = await api(`/api${inspectHref("User", { id: user.id })}`);
    expect(json.body).toMatchObject({ presence: "mysql-only", dynamodb: null, item: null, differences: [] });

    const neither = await page("/inspect?entity=User&id=987654321");
    expect(neither.status).toBe(200);
    expect(neither.text).toContain(
      "User id=987654321 On neither store: MySQL has no row and DynamoDB no item with this key.",
    );
    expect(neither.text).not.toContain("Side by side");
    expect(neither.text).not.toContain("Unique markers");
    expect((await api("/api/inspect?entity=User&id=987654321")).body).toEqual({
      entity: "User",
      key: { id: { $bigint: "987654321" } },
      presence: "neither",
      mysql: null,
      dynamodb: null,
      item: null,
      differences: [],
      markers: [],
    });
  });

  it("shows the form alone until a key is given, with one field per attribute of the entity's key", async () => {
    const first = await page("/inspect");
    expect(first.status).toBe(200);
    expect(first.html).toContain(`<option value="${stores.codec.entities[0]}" selected="">`);
    const lines = await page("/inspect?entity=OrderItem");
    expect(lines.status).toBe(200);
    expect(lines.html).toContain('<option value="OrderItem" selected="">');
    for (const name of ["id", "orderId", "productId"]) expect(lines.html).toContain(`name="${name}" value=""`);
    expect(lines.text).not.toContain("Side by side");
    expect(lines.text).not.toContain("On neither store");
  });

  it("refuses bad input with 400 and a message per field, keeping what was typed", async () => {
    const entities = stores.codec.entities.join(", ");
    const wrongType = await page("/inspect?entity=User&id=three");
    expect(wrongType.status).toBe(400);
    expect(wrongType.text).toContain("id is a whole number, like 42.");
    expect(wrongType.text).toContain("This is not a record's key: see the fields.");
    expect(wrongType.html).toContain('name="id" value="three"');

    const unknown = await page("/inspect?entity=%3Cb%3ENope&id=3");
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain(`There is no entity '<b>Nope' in the contract (it has ${entities}).`);
    expect(unknown.html).not.toContain("<b>Nope");

    const missing = await page("/inspect?entity=OrderItem&id=3");
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("Give orderId: OrderItem's key is id, orderId, productId.");
    expect(missing.text).toContain("Give productId: OrderItem's key is id, orderId, productId.");
    expect(missing.html).toContain('name="id" value="3"');

    const notJson = await page("/inspect?entity=User&key=%7Bid");
    expect(notJson.status).toBe(400);
    expect(notJson.text).toContain(
      `The key is not JSON. The key is the JSON of User's id, like {"id":{"$bigint":"42"}}.`,
    );

    // What the runtime refuses comes back on its field.
    const extra = await page(`/inspect?entity=User&key=${encodeURIComponent('{"id":3,"email":"a@b.c"}')}`);
    expect(extra.status).toBe(400);
    expect(extra.text).toContain("email is not part of User's key (id).");

    expect(await api("/api/inspect?entity=User&id=three")).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid",
          message: "This is not a record's key: see the fields.",
          fields: { id: "id is a whole number, like 42." },
        },
      },
    });
    expect(await api(`/api/inspect?entity=User&key=${encodeURIComponent('{"id":"x"}')}`)).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid",
          message: "This is not a record's key: see the fields.",
          fields: {
            id: 'User.id: expected a bigint (or an integer string, or a safe integer number), got "x" (string)',
          },
        },
      },
    });
    expect(await api("/api/inspect?entity=User")).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid",
          message: "Give the record's key.",
          fields: { key: "Give the key as key=<its JSON> or as id." },
        },
      },
    });
    expect(await api("/api/inspect?entity=Nope&id=1")).toEqual({
      status: 400,
      body: {
        error: {
          code: "invalid",
          message: "This is not a record's key: see the fields.",
          fields: { entity: `There is no entity 'Nope' in the contract (it has ${entities}).` },
        },
      },
    });
    expect((await api("/api/inspect")).status).toBe(400);
  });

  it("lets a viewer look, refuses anonymous callers, and says so when the console has no stores", async () => {
    const path = `/inspect?entity=User&id=1`;
    const anonymous = await console.request(path);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/login?next=%2Finspect");
    const anonymousApi = await console.request(`/api${path}`);
    expect(anonymousApi.status).toBe(401);
    expect((await page(path)).status).toBe(200);

    const bare = await testConsole(stack, "inspect_bare");
    const cookie = await bare.logIn("val");
    const unavailable = await bare.request(path, { cookie });
    expect(unavailable.status).toBe(503);
    expect(readable(await unavailable.text())).toContain(
      "This console was started without the app's contract and MySQL",
    );
    const unavailableApi = await bare.request(`/api${path}`, { cookie: await bare.logIn("val") });
    expect(unavailableApi.status).toBe(503);
    expect(((await unavailableApi.json()) as { error: { code: string } }).error.code).toBe("no_stores");
  });

  it("is linked from every difference of a validation report", async () => {
    const at = "2026-12-05T08:00:00.000Z";
    const report: ValidationReport = {
      id: `${at}#0000beef`,
      at,
      who: "ci@host",
      contract: "store.yaml",
      sample: 1,
      full: true,
      clean: false,
      totals: {
        rows: 2,
        items: 2,
        markers: 0,
        matched: 0,
        missing: 1,
        extra: 0,
        mismatched: 1,
        unreadable: 0,
        unclaimed: 0,
        differences: 2,
      },
      entities: [
        {
          entity: "User",
          rows: 2,
          items: 1,
          markers: 0,
          matched: 0,
          missing: 1,
          extra: 0,
          mismatched: 1,
          unreadable: 0,
          settled: 0,
          staleCopies: 0,
          differences: [
            {
              entity: "User",
              kind: "mismatched",
              key: JSON.parse(encodeKey({ id: 5n })),
              fields: [{ field: "lastName", mysql: "A", dynamodb: "B" }],
            },
            { entity: "User", kind: "missing-item", key: { id: 7 }, fields: [] },
          ],
        },
      ],
      itemsPerSecond: 100,
      durationMs: 20,
    };
    await storeValidationReport(stack.dynamodb(), console.phases.tablePrefix, report);
    const shown = await page(`/validation/${encodeURIComponent(report.id)}`);
    expect(shown.status).toBe(200);
    const links = [...shown.html.matchAll(/<a href="(\/inspect\?[^"]+)">inspect<\/a>/g)].map((m) =>
      (m[1] ?? "").replaceAll("&amp;", "&"),
    );
    expect(links).toEqual([inspectHref("User", { id: 5n }), inspectHref("User", { id: 7 })]);
    expect(shown.text).toContain('mismatched · User {"id":{"$bigint":"5"}} · inspect');
    // The link leads to the record.
    expect((await page(links[0] ?? "")).text).toContain("User id=5 On ");
  });
});
