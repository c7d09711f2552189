/**
 * `runLegacyWorkload`: replays what the legacy Express store sends to MySQL while people use it:
 * visitors browsing the catalogue, shoppers signing in, filling carts and checking out, sellers
 * managing their products, newcomers registering. The statements, their mix and their relative
 * frequencies are the app's, so a general log recorded while this runs is what the analyzer
 * would see in front of the real store.
 *
 * Parameterised queries go through `query` (values escaped into the text by the client), as the
 * legacy app did, so the general log shows complete statements. Deterministic for a seed and a
 * starting data set: sessions run one after another, each drawing from its own random stream.
 */
import { connectMysql, parseMysqlUrl, StackError, withDatabase } from "@ferry/stack";
import { RowRandom } from "@ferry/stack/random";
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { ADJECTIVES, CATEGORIES, FEATURES, LEAF_CATEGORY_IDS, NOUNS } from "./catalog.ts";
import { DEMO_PASSWORD } from "./demo.ts";
import { hashPassword, seedSalt } from "./password.ts";
import { DEFAULT_STORE_DATABASE } from "./seed.ts";

export interface LegacyWorkloadOptions {
  /** Visits to replay (about ten statements each). */
  sessions: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
  /** The accounts and ids to use; read from the database first when not given (see `legacyWorkloadData`). */
  data?: LegacyWorkloadData;
  /** Connections the sessions take turns on (default 3), as an app's pool would. */
  connections?: number;
}

/** What the sessions need from the data set: who can sign in and which ids exist. */
export interface LegacyWorkloadData {
  shoppers: StoreAccount[];
  sellers: StoreAccount[];
  maxProductId: number;
}

export interface StoreAccount {
  id: number;
  username: string;
  email: string;
}

type Db = Pick<Connection, "query">;
type Rows = RowDataPacket[];

/** Reads the accounts (up to 1,000 of each kind) and the highest product id of a seeded store. */
export async function legacyWorkloadData(mysqlUrl: string): Promise<LegacyWorkloadData> {
  const connection = await connectMysql(storeUrl(mysqlUrl));
  try {
    const [users] = await connection.query<Rows>(
      "(SELECT id, username, email, is_seller FROM users WHERE is_seller = 0 ORDER BY id LIMIT 1000) UNION ALL (SELECT id, username, email, is_seller FROM users WHERE is_seller = 1 ORDER BY id LIMIT 1000)",
    );
    const [max] = await connection.query<Rows>("SELECT COALESCE(MAX(id), 0) AS id FROM products");
    const account = (row: RowDataPacket): StoreAccount => ({
      id: Number(row.id),
      username: String(row.username),
      email: String(row.email),
    });
    const data = {
      shoppers: users.filter((u) => Number(u.is_seller) === 0).map(account),
      sellers: users.filter((u) => Number(u.is_seller) === 1).map(account),
      maxProductId: Number(max[0]?.id ?? 0),
    };
    if (data.shoppers.length === 0 || data.sellers.length === 0 || data.maxProductId === 0) {
      throw new StackError("the store database has no shoppers, sellers or products to replay a workload on", {
        hint: "seed it first: pnpm ferry seed --reset",
      });
    }
    return data;
  } finally {
    await connection.end();
  }
}

function storeUrl(mysqlUrl: string): string {
  return withDatabase(mysqlUrl, parseMysqlUrl(mysqlUrl).database ?? DEFAULT_STORE_DATABASE);
}

/** Search terms people type: product nouns and adjectives, lower case, sometimes only part of a word. */
const SEARCH_TERMS: readonly string[] = [
  ...Object.values(NOUNS).flatMap((nouns) => nouns.map((n) => n.toLowerCase())),
  ...ADJECTIVES.map((a) => a.toLowerCase()),
  "lamp",
  "bag",
  "book",
  "bike",
  "run",
];

const ROOT_CATEGORY_IDS = CATEGORIES.filter((c) => c.parentId === null).map((c) => c.id);
const PAGE_SIZE = 12;

export async function runLegacyWorkload(
  mysqlUrl: string,
  options: LegacyWorkloadOptions,
): Promise<{ statements: number }> {
  const { sessions, seed } = options;
  if (!Number.isSafeInteger(sessions) || sessions < 0) throw new StackError(`not a number of sessions: ${sessions}`);
  const given = options.data ?? (await legacyWorkloadData(mysqlUrl));
  // Accounts registered during the run join the shoppers (of this run only).
  const data = { ...given, shoppers: [...given.shoppers] };
  const passwordHash = await hashPassword(DEMO_PASSWORD, { salt: seedSalt(`workload-${seed}`) });
  const pool: Connection[] = [];
  try {
    const connections = Math.max(1, Math.floor(options.connections ?? 3));
    for (let i = 0; i < connections; i++) pool.push(await connectMysql(storeUrl(mysqlUrl)));
    const store = new LegacyStore(pool, data, passwordHash);
    const random = new RowRandom(seed, "legacy-workload");
    for (let session = 0; session < sessions; session++) {
      store.use(session);
      await store.session(random.at(session), seed, session);
      options.onProgress?.(session + 1, sessions);
    }
    return { statements: store.statements };
  } finally {
    await Promise.all(pool.map((c) => c.end().catch(() => undefined)));
  }
}

interface CartLine {
  product_id: number;
  quantity: number;
  price: string;
}

/** The legacy app's data access, one method per query it sends, and the visits that use them. */
class LegacyStore {
  statements = 0;
  private db: Connection;

  constructor(
    private readonly pool: readonly Connection[],
    private readonly data: LegacyWorkloadData,
    private readonly passwordHash: string,
  ) {
    this.db = pool[0] as Connection;
  }

  use(session: number): void {
    this.db = this.pool[session % this.pool.length] as Connection;
  }

  private async rows(sql: string, values: unknown[] = [], db: Db = this.db): Promise<Rows> {
    this.statements++;
    const [rows] = await db.query<Rows>(sql, values);
    return rows;
  }

  private async write(sql: string, values: unknown[] = [], db: Db = this.db): Promise<ResultSetHeader> {
    this.statements++;
    const [result] = await db.query<ResultSetHeader>(sql, values);
    return result;
  }

  // ---- visits

  async session(random: RowRandom, seed: number, session: number): Promise<void> {
    const kind = random.weighted<"browse" | "shop" | "sell" | "register">([
      [45, "browse"],
      [35, "shop"],
      [12, "sell"],
      [8, "register"],
    ]);
    if (kind === "browse") await this.browse(random, undefined);
    else if (kind === "shop") await this.shop(random);
    else if (kind === "sell") await this.sell(random);
    else await this.register(random, seed, session);
  }

  /** A visitor (or a signed-in shopper) looks around the catalogue. */
  private async browse(random: RowRandom, userId: number | undefined): Promise<number[]> {
    const seen: number[] = [];
    await this.authenticate(userId);
    await this.rows("SELECT id, parent_id, name FROM categories ORDER BY parent_id, name");
    if (random.chance(50)) {
      await this.authenticate(userId);
      await this.rows("SELECT id, parent_id, name FROM categories WHERE parent_id = ? ORDER BY name", [
        random.pick(ROOT_CATEGORY_IDS),
      ]);
    }
    const pages = random.between(1, 3);
    for (let page = 0; page < pages; page++) {
      await this.authenticate(userId);
      const category = random.pick(LEAF_CATEGORY_IDS);
      const offset = random.chance(70) ? 0 : random.between(1, 3) * PAGE_SIZE;
      const listed = await this.rows(
        `SELECT p.id, p.name, p.price, p.image_url, p.inventory_quantity, u.username AS seller_name
           FROM products p JOIN users u ON u.id = p.seller_id
          WHERE p.category_id = ?
          ORDER BY p.created_at DESC
          LIMIT ? OFFSET ?`,
        [category, PAGE_SIZE, offset],
      );
      await this.rows("SELECT COUNT(*) AS total FROM products WHERE category_id = ?", [category]);
      for (const row of listed) seen.push(Number(row.id));
    }
    if (random.chance(30)) {
      await this.authenticate(userId);
      const found = await this.rows(
        "SELECT id, name, price, image_url FROM products WHERE name LIKE ? ORDER BY name LIMIT 20",
        [`%${random.pick(SEARCH_TERMS)}%`],
      );
      for (const row of found) seen.push(Number(row.id));
    }
    const views = random.between(1, 4);
    for (let i = 0; i < views; i++) {
      const id = seen.length > 0 && random.chance(80) ? random.pick(seen) : random.between(1, this.data.maxProductId);
      await this.productPage(id, userId);
    }
    return seen;
  }

  private async productPage(id: number, userId: number | undefined): Promise<RowDataPacket | undefined> {
    await this.authenticate(userId);
    const [product] = await this.rows("SELECT * FROM products WHERE id = ?", [id]);
    if (product)
      await this.rows("SELECT id, parent_id, name FROM categories WHERE id = ?", [Number(product.category_id)]);
    return product;
  }

  /** Every signed-in request: the auth middleware loads the user from the session's user id. */
  private async authenticate(userId: number | undefined): Promise<void> {
    if (userId === undefined) return;
    await this.rows(
      "SELECT id, username, email, first_name, last_name, is_seller, created_at, updated_at FROM users WHERE id = ?",
      [userId],
    );
  }

  private async login(random: RowRandom, account: StoreAccount): Promise<number | undefined> {
    const [user] = random.chance(80)
      ? await this.rows("SELECT * FROM users WHERE username = ?", [account.username])
      : await this.rows("SELECT * FROM users WHERE email = ?", [account.email]);
    return user ? Number(user.id) : undefined;
  }

  /** A shopper signs in, browses, fills the cart, maybe checks out and looks at past orders. */
  private async shop(random: RowRandom): Promise<void> {
    const userId = await this.login(random, random.pick(this.data.shoppers));
    if (userId === undefined) return;
    const seen = await this.browse(random, userId);
    const adds = random.between(1, 3);
    for (let i = 0; i < adds; i++) {
      const productId = seen.length > 0 ? random.pick(seen) : random.between(1, this.data.maxProductId);
      const product = await this.productPage(productId, userId);
      if (!product || Number(product.inventory_quantity) <= 0) continue;
      await this.authenticate(userId);
      const quantity = random.weighted([
        [80, 1],
        [15, 2],
        [5, 3],
      ]);
      await this.write(
        "INSERT INTO shopping_carts (user_id, product_id, quantity) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE quantity = quantity + ?",
        [userId, productId, quantity, quantity],
      );
    }
    let cart = await this.cart(userId);
    const first = cart[0];
    if (first && random.chance(20)) {
      await this.authenticate(userId);
      await this.write("UPDATE shopping_carts SET quantity = ? WHERE user_id = ? AND product_id = ?", [
        random.between(1, 3),
        userId,
        first.product_id,
      ]);
      cart = await this.cart(userId);
    }
    const last = cart[cart.length - 1];
    if (last && cart.length > 1 && random.chance(15)) {
      await this.authenticate(userId);
      await this.write("DELETE FROM shopping_carts WHERE user_id = ? AND product_id = ?", [userId, last.product_id]);
      cart = await this.cart(userId);
    }
    if (cart.length > 0 && random.chance(45)) await this.checkout(userId);
    if (random.chance(35)) {
      await this.authenticate(userId);
      const orders = await this.rows(
        "SELECT id, total_amount, status, created_at FROM orders WHERE user_id = ? ORDER BY created_at DESC LIMIT ?",
        [userId, 10],
      );
      const order = orders.length > 0 && random.chance(60) ? random.pick(orders) : undefined;
      if (order) {
        await this.authenticate(userId);
        await this.rows("SELECT * FROM orders WHERE id = ? AND user_id = ?", [Number(order.id), userId]);
        await this.rows(
          `SELECT oi.product_id, oi.quantity, oi.price_at_time, p.name, p.image_url
             FROM order_items oi JOIN products p ON p.id = oi.product_id
            WHERE oi.order_id = ?`,
          [Number(order.id)],
        );
      }
    }
    if (random.chance(6)) {
      await this.authenticate(userId);
      const firstName = random.pick(["Sam", "Alex", "Robin", "Kim"]);
      const lastName = random.pick(["Shopper", "Lee", "Moreau"]);
      await this.write("UPDATE users SET first_name = ?, last_name = ? WHERE id = ?", [firstName, lastName, userId]);
    }
  }

  private async cart(userId: number): Promise<CartLine[]> {
    await this.authenticate(userId);
    const rows = await this.rows(
      `SELECT sc.product_id, sc.quantity, p.name, p.price, p.image_url, p.inventory_quantity
         FROM shopping_carts sc JOIN products p ON p.id = sc.product_id
        WHERE sc.user_id = ?
        ORDER BY sc.created_at`,
      [userId],
    );
    return rows.map((row) => ({
      product_id: Number(row.product_id),
      quantity: Number(row.quantity),
      price: String(row.price),
    }));
  }

  /** Checkout, all or nothing: lock the products, take the stock, write the order, empty the cart. */
  private async checkout(userId: number): Promise<void> {
    await this.authenticate(userId);
    const db = this.db;
    this.statements++;
    await db.query("START TRANSACTION");
    try {
      const lines = await this.rows(
        "SELECT product_id, quantity FROM shopping_carts WHERE user_id = ? ORDER BY product_id",
        [userId],
        db,
      );
      const ids = lines.map((line) => Number(line.product_id));
      const products = await this.rows(
        "SELECT id, price, inventory_quantity FROM products WHERE id IN (?) FOR UPDATE",
        [ids],
        db,
      );
      const price = new Map(products.map((p) => [Number(p.id), String(p.price)]));
      let totalCents = 0;
      for (const line of lines) {
        const quantity = Number(line.quantity);
        const taken = await this.write(
          "UPDATE products SET inventory_quantity = inventory_quantity - ? WHERE id = ? AND inventory_quantity >= ?",
          [quantity, Number(line.product_id), quantity],
          db,
        );
        if (taken.affectedRows !== 1) {
          this.statements++;
          await db.query("ROLLBACK");
          return;
        }
        totalCents += cents(price.get(Number(line.product_id)) ?? "0") * quantity;
      }
      const order = await this.write(
        "INSERT INTO orders (user_id, total_amount, status) VALUES (?, ?, ?)",
        [userId, (totalCents / 100).toFixed(2), "pending"],
        db,
      );
      for (const line of lines) {
        await this.write(
          "INSERT INTO order_items (order_id, product_id, quantity, price_at_time) VALUES (?, ?, ?, ?)",
          [
            order.insertId,
            Number(line.product_id),
            Number(line.quantity),
            price.get(Number(line.product_id)) ?? "0.00",
          ],
          db,
        );
      }
      await this.write("DELETE FROM shopping_carts WHERE user_id = ?", [userId], db);
      this.statements++;
      await db.query("COMMIT");
    } catch (error) {
      this.statements++;
      await db.query("ROLLBACK");
      throw error;
    }
  }

  /** A seller signs in, looks at the dashboard and their products, adds or edits one. */
  private async sell(random: RowRandom): Promise<void> {
    const userId = await this.login(random, random.pick(this.data.sellers));
    if (userId === undefined) return;
    await this.authenticate(userId);
    await this.rows(
      "SELECT COUNT(*) AS products, COALESCE(SUM(inventory_quantity), 0) AS stock FROM products WHERE seller_id = ?",
      [userId],
    );
    await this.rows(
      `SELECT COUNT(DISTINCT oi.order_id) AS orders, COALESCE(SUM(oi.quantity * oi.price_at_time), 0) AS revenue
         FROM order_items oi JOIN products p ON p.id = oi.product_id
        WHERE p.seller_id = ?`,
      [userId],
    );
    await this.authenticate(userId);
    const mine = await this.rows("SELECT * FROM products WHERE seller_id = ? ORDER BY created_at DESC", [userId]);
    if (random.chance(30)) {
      await this.authenticate(userId);
      const category = random.pick(LEAF_CATEGORY_IDS);
      const noun = random.pick(NOUNS[category] ?? ["Item"]);
      await this.write(
        "INSERT INTO products (seller_id, category_id, name, description, price, inventory_quantity, image_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
          userId,
          category,
          `${random.pick(ADJECTIVES)} ${noun}`,
          random.pick(FEATURES),
          `${random.between(5, 400)}.${String(random.below(100)).padStart(2, "0")}`,
          random.between(5, 80),
          random.chance(80) ? `https://cdn.example.com/store/new/${random.next()}.jpg` : null,
        ],
      );
    }
    const product = mine.length > 0 && random.chance(50) ? random.pick(mine) : undefined;
    if (product) {
      await this.productPage(Number(product.id), userId);
      await this.authenticate(userId);
      await this.write(
        "UPDATE products SET name = ?, description = ?, price = ?, inventory_quantity = ? WHERE id = ? AND seller_id = ?",
        [
          product.name,
          product.description,
          product.price,
          Number(product.inventory_quantity) + random.between(0, 20),
          Number(product.id),
          userId,
        ],
      );
    }
  }

  /** A newcomer signs up (unless the name is taken), then lands on the catalogue. */
  private async register(random: RowRandom, seed: number, session: number): Promise<void> {
    const username = `new_${seed}_${session}`;
    const email = `${username}@example.net`;
    const [byName] = await this.rows("SELECT * FROM users WHERE username = ?", [username]);
    const [byEmail] = byName ? [byName] : await this.rows("SELECT * FROM users WHERE email = ?", [email]);
    let userId: number;
    if (byName || byEmail) {
      userId = Number((byName ?? byEmail)?.id);
    } else {
      const created = await this.write(
        "INSERT INTO users (username, email, password_hash, first_name, last_name, is_seller) VALUES (?, ?, ?, ?, ?, ?)",
        [
          username,
          email,
          this.passwordHash,
          random.pick(["Ada", "Ben", "Cleo", "Dev"]),
          random.pick(["Ng", "Roy", null]),
          0,
        ],
      );
      userId = created.insertId;
      this.data.shoppers.push({ id: userId, username, email });
    }
    await this.authenticate(userId);
    await this.rows("SELECT id, parent_id, name FROM categories ORDER BY parent_id, name");
  }
}

function cents(decimal: string): number {
  const [whole, fraction = ""] = decimal.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0").slice(0, 2));
}
