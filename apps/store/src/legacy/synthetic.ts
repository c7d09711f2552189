/**
 * The synthetic data set: N users, products and orders made from a seed. Every row is a pure
 * function of (seed, table, id), so the data does not depend on chunking or on how many
 * connections load it; ids are explicit and dense. Money is integer cents throughout.
 *
 * Shape: the 25 categories; every 50th user (ids 1, 51, 101, ...) is a seller and owns products;
 * orders have 1-4 distinct products, `price_at_time` is the product's price and `total_amount`
 * the exact sum of price x quantity; about 30% of users have 1-3 cart lines. Order ids follow
 * time (later ids are newer), as auto-increment ids do.
 */
import { StackError } from "@ferry/stack";
import { RowRandom } from "@ferry/stack/random";
import {
  ADJECTIVES,
  BRANDS,
  CATEGORIES,
  FEATURES,
  FIRST_NAMES,
  LAST_NAMES,
  LEAF_CATEGORY_IDS,
  NOUNS,
} from "./catalog.ts";
import type { LoadChunk } from "./load.ts";
import { centsToDecimal, DAY_MS, REFERENCE_TIME, type RowCells, type StoreTable, sqlDateTime } from "./tables.ts";

export interface SyntheticSize {
  users: number;
  products: number;
  orders: number;
  seed: number;
}

/** One seller per this many users (user ids 1, 1 + SELLER_EVERY, ...). */
export const SELLER_EVERY = 50;
const MAX_ITEMS_PER_ORDER = 4;

const USERS_FROM = REFERENCE_TIME - 3 * 365 * DAY_MS;
const USERS_SPAN = 2 * 365 * DAY_MS;
const PRODUCTS_FROM = USERS_FROM;
const PRODUCTS_SPAN = 2 * 365 * DAY_MS;
const ORDERS_FROM = REFERENCE_TIME - 365 * DAY_MS;
const ORDERS_SPAN = 365 * DAY_MS - 3_600_000;
const CATEGORIES_AT = USERS_FROM - 30 * DAY_MS;

/** Rows per chunk; order items and cart lines are chunked by their orders and users. */
export interface SyntheticChunking {
  rows: number;
  ordersPerItemsChunk: number;
  usersPerCartsChunk: number;
}

const DEFAULT_CHUNKING: SyntheticChunking = { rows: 10_000, ordersPerItemsChunk: 8_000, usersPerCartsChunk: 20_000 };

/** Throws a StackError naming the first thing wrong with the sizes. */
export function validateSynthetic(size: SyntheticSize): void {
  for (const key of ["users", "products", "orders", "seed"] as const) {
    const value = size[key];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new StackError(`synthetic ${key} must be a whole number of 0 or more, not ${String(value)}`, {
        hint: "e.g. --users 1000 --products 200 --orders 5000 --seed 1",
      });
    }
  }
  if (size.products > 0 && size.users === 0) {
    throw new StackError("synthetic products need users to sell them (users is 0)", { hint: "give --users 1 or more" });
  }
  if (size.orders > 0 && (size.users === 0 || size.products === 0)) {
    throw new StackError(
      `synthetic orders need users and products (users: ${size.users}, products: ${size.products})`,
      { hint: "give --users and --products of 1 or more, or --orders 0" },
    );
  }
}

/** How many sellers there are for `users` users. */
export function sellerCount(users: number): number {
  return Math.ceil(users / SELLER_EVERY);
}

/**
 * The load for a synthetic data set: row totals per table and the chunks that make the rows
 * (whatever the chunking, the rows are the same).
 * `passwordHash` is the one hash every synthetic user shares (hashing per user would dominate
 * the load: scrypt is slow on purpose).
 */
export function syntheticLoad(
  size: SyntheticSize,
  passwordHash: string,
  chunking: SyntheticChunking = DEFAULT_CHUNKING,
): { totals: Record<StoreTable, number>; chunks: LoadChunk[]; accounts: string[] } {
  validateSynthetic(size);
  const data = new SyntheticData(size, passwordHash);
  const { orderItemStarts, totalItems } = data.orderItemLayout(chunking.ordersPerItemsChunk);
  const { cartStarts, totalCarts } = data.cartLayout(chunking.usersPerCartsChunk);
  const totals: Record<StoreTable, number> = {
    users: size.users,
    categories: CATEGORIES.length,
    products: size.products,
    shopping_carts: totalCarts,
    orders: size.orders,
    order_items: totalItems,
  };

  const perTable: LoadChunk[][] = [];
  perTable.push([{ table: "categories", rows: CATEGORIES.length, make: () => data.categories() }]);
  perTable.push(
    ranges(size.users, chunking.rows, (from, to) => ({
      table: "users",
      rows: to - from,
      make: () => data.users(from, to),
    })),
  );
  perTable.push(
    ranges(size.products, chunking.rows, (from, to) => ({
      table: "products",
      rows: to - from,
      make: () => data.products(from, to),
    })),
  );
  perTable.push(
    ranges(size.orders, chunking.rows * 2, (from, to) => ({
      table: "orders",
      rows: to - from,
      make: () => data.orders(from, to),
    })),
  );
  perTable.push(
    ranges(size.orders, chunking.ordersPerItemsChunk, (from, to, index) => {
      const start = orderItemStarts[index] ?? 0;
      const end = orderItemStarts[index + 1] ?? totalItems;
      return { table: "order_items", rows: end - start, make: () => data.orderItems(from, to, start + 1) };
    }),
  );
  perTable.push(
    ranges(size.users, chunking.usersPerCartsChunk, (from, to, index) => {
      const start = cartStarts[index] ?? 0;
      const end = cartStarts[index + 1] ?? totalCarts;
      return { table: "shopping_carts", rows: end - start, make: () => data.carts(from, to, start + 1) };
    }),
  );
  // User 1 is a seller, user 2 (when there is one) a shopper.
  const accounts = data.users(1, Math.min(size.users, 2) + 1).map((row) => String(row[1]));
  return { totals, chunks: interleave(perTable.map((list) => list.filter((chunk) => chunk.rows > 0))), accounts };
}

/** Chunks over ids 1..count: `make(fromId, toIdExclusive, chunkIndex)`. */
function ranges(
  count: number,
  size: number,
  make: (from: number, to: number, index: number) => LoadChunk,
): LoadChunk[] {
  const chunks: LoadChunk[] = [];
  for (let from = 1, index = 0; from <= count; from += size, index++)
    chunks.push(make(from, Math.min(count + 1, from + size), index));
  return chunks;
}

/** Orders the chunks so every table advances at the same pace (by fraction of the table done). */
function interleave(lists: LoadChunk[][]): LoadChunk[] {
  const tagged = lists.flatMap((list) => list.map((chunk, i) => ({ chunk, at: (i + 0.5) / list.length })));
  return tagged.sort((a, b) => a.at - b.at).map((t) => t.chunk);
}

/** Price bands in whole units, by weight; then the cents. */
const PRICE_BANDS: ReadonlyArray<readonly [number, readonly [number, number]]> = [
  [30, [2, 20]],
  [35, [20, 80]],
  [20, [80, 250]],
  [10, [250, 900]],
  [5, [900, 2500]],
];
const PRICE_ENDINGS = [99, 95, 50, 0, 49] as const;
const DELIVERED_OR_CANCELLED = [
  [92, "delivered"],
  [8, "cancelled"],
] as const;
const RECENT_STATUS = [
  [50, "shipped"],
  [40, "delivered"],
  [10, "cancelled"],
] as const;
const NEW_STATUS = [
  [30, "pending"],
  [50, "paid"],
  [15, "shipped"],
  [5, "cancelled"],
] as const;
const ORDER_QUANTITY = [
  [75, 1],
  [18, 2],
  [7, 3],
] as const;
const CART_LINES = [
  [70, 0],
  [18, 1],
  [8, 2],
  [4, 3],
] as const;
const CART_QUANTITY = [
  [80, 1],
  [15, 2],
  [5, 3],
] as const;

interface OrderShape {
  userId: number;
  productIds: number[];
  quantities: number[];
  createdAt: number;
}

class SyntheticData {
  private readonly userRng: RowRandom;
  private readonly productRng: RowRandom;
  private readonly priceRng: RowRandom;
  private readonly orderRng: RowRandom;
  private readonly cartRng: RowRandom;
  private readonly sellers: number;
  /** Prices by product id, -1 until worked out. */
  private readonly prices: Int32Array;

  constructor(
    private readonly size: SyntheticSize,
    private readonly passwordHash: string,
  ) {
    this.userRng = new RowRandom(size.seed, "users");
    this.productRng = new RowRandom(size.seed, "products");
    this.priceRng = new RowRandom(size.seed, "products.price");
    this.orderRng = new RowRandom(size.seed, "orders");
    this.cartRng = new RowRandom(size.seed, "shopping_carts");
    this.sellers = sellerCount(size.users);
    this.prices = new Int32Array(size.products + 1).fill(-1);
  }

  categories(): RowCells[] {
    return CATEGORIES.map((c) => [c.id, c.parentId, c.name, sqlDateTime(CATEGORIES_AT + c.id * 60_000)]);
  }

  users(from: number, to: number): RowCells[] {
    const rows: RowCells[] = [];
    const rng = this.userRng;
    for (let id = from; id < to; id++) {
      rng.at(id);
      const [first, firstSlug] = rng.pick(FIRST_NAMES);
      const hasLast = !rng.chance(5);
      const [last, lastSlug] = rng.pick(LAST_NAMES);
      // Digits only at the end and no dot without a last name: names cannot collide across ids.
      const username = hasLast ? `${firstSlug}.${lastSlug}${id}` : `${firstSlug}${id}`;
      const createdAt = this.userCreatedAt(id) + rng.below(3_600_000);
      const updatedAt = rng.chance(30) ? Math.min(REFERENCE_TIME, createdAt + rng.below(300 * DAY_MS)) : createdAt;
      rows.push([
        id,
        username,
        `${username}@example.com`,
        this.passwordHash,
        first,
        hasLast ? last : null,
        (id - 1) % SELLER_EVERY === 0 ? 1 : 0,
        sqlDateTime(createdAt),
        sqlDateTime(updatedAt),
      ]);
    }
    return rows;
  }

  products(from: number, to: number): RowCells[] {
    const rows: RowCells[] = [];
    const rng = this.productRng;
    for (let id = from; id < to; id++) {
      rng.at(id);
      const category = rng.pick(LEAF_CATEGORY_IDS);
      const brand = rng.pick(BRANDS);
      const adjective = rng.pick(ADJECTIVES);
      const noun = rng.pick(NOUNS[category] ?? ["Item"]);
      const model = rng.chance(40) ? ` ${rng.between(100, 999)}` : "";
      const sellerId = 1 + rng.below(this.sellers) * SELLER_EVERY;
      const stock = rng.chance(5) ? 0 : rng.between(1, 500);
      const description = `${adjective} ${noun.toLowerCase()} by ${brand}. ${rng.pick(FEATURES)} ${rng.pick(FEATURES)}`;
      const imageUrl = rng.chance(90) ? `https://cdn.example.com/store/products/${id}.jpg` : null;
      const createdAt =
        PRODUCTS_FROM + Math.floor(((id - 1) / this.size.products) * PRODUCTS_SPAN) + rng.below(3_600_000);
      const updatedAt = rng.chance(50) ? Math.min(REFERENCE_TIME, createdAt + rng.below(365 * DAY_MS)) : createdAt;
      rows.push([
        id,
        sellerId,
        category,
        `${brand} ${adjective} ${noun}${model}`,
        description,
        centsToDecimal(this.priceCents(id)),
        stock,
        imageUrl,
        sqlDateTime(createdAt),
        sqlDateTime(updatedAt),
      ]);
    }
    return rows;
  }

  /**
   * A product's price in cents, from its own stream so orders can look it up without the row
   * (remembered once worked out: orders ask for the same products over and over).
   */
  priceCents(productId: number): number {
    const known = this.prices[productId];
    if (known !== undefined && known >= 0) return known;
    const rng = this.priceRng.at(productId);
    const [low, high] = rng.weighted(PRICE_BANDS);
    const price = rng.between(low, high - 1) * 100 + rng.pick(PRICE_ENDINGS);
    this.prices[productId] = price;
    return price;
  }

  orders(from: number, to: number): RowCells[] {
    const rows: RowCells[] = [];
    const rng = this.orderRng;
    for (let id = from; id < to; id++) {
      const shape = this.orderShape(id);
      let total = 0;
      for (let i = 0; i < shape.productIds.length; i++) {
        total += this.priceCents(shape.productIds[i] ?? 0) * (shape.quantities[i] ?? 0);
      }
      // orderShape left the stream positioned after its draws: status and update time follow.
      const ageDays = (REFERENCE_TIME - shape.createdAt) / DAY_MS;
      const status =
        ageDays > 14
          ? rng.weighted(DELIVERED_OR_CANCELLED)
          : ageDays > 3
            ? rng.weighted(RECENT_STATUS)
            : rng.weighted(NEW_STATUS);
      const laterHours = status === "pending" ? 0 : status === "paid" ? rng.between(0, 2) : rng.between(6, 24 * 6);
      const updatedAt = Math.min(REFERENCE_TIME, shape.createdAt + laterHours * 3_600_000 + rng.below(3_600_000));
      rows.push([
        id,
        shape.userId,
        centsToDecimal(total),
        status,
        sqlDateTime(shape.createdAt),
        sqlDateTime(updatedAt),
      ]);
    }
    return rows;
  }

  /** Items of orders [from, to), ids from `firstItemId`. */
  orderItems(from: number, to: number, firstItemId: number): RowCells[] {
    const rows: RowCells[] = [];
    let itemId = firstItemId;
    for (let id = from; id < to; id++) {
      const shape = this.orderShape(id);
      for (let i = 0; i < shape.productIds.length; i++) {
        const productId = shape.productIds[i] ?? 0;
        rows.push([itemId++, id, productId, shape.quantities[i] ?? 1, centsToDecimal(this.priceCents(productId))]);
      }
    }
    return rows;
  }

  /** How many items order `id` has: the first draw of its stream. */
  private itemCount(id: number): number {
    return Math.min(this.size.products, this.orderRng.at(id).between(1, MAX_ITEMS_PER_ORDER));
  }

  private orderShape(id: number): OrderShape {
    const count = this.itemCount(id);
    const rng = this.orderRng;
    // Earlier users order more often: the smaller of two draws.
    const userId = 1 + Math.min(rng.below(this.size.users), rng.below(this.size.users));
    const productIds: number[] = [];
    const quantities: number[] = [];
    while (productIds.length < count) {
      const productId = 1 + rng.below(this.size.products);
      if (productIds.includes(productId)) continue;
      productIds.push(productId);
      quantities.push(rng.weighted(ORDER_QUANTITY));
    }
    const createdAt = ORDERS_FROM + Math.floor(((id - 1) / this.size.orders) * ORDERS_SPAN) + rng.below(60_000);
    return { userId, productIds, quantities, createdAt };
  }

  /** Where each items chunk starts (0-based item offsets), from one pass over the orders. */
  orderItemLayout(ordersPerChunk: number): { orderItemStarts: number[]; totalItems: number } {
    const orderItemStarts: number[] = [];
    let total = 0;
    for (let id = 1; id <= this.size.orders; id++) {
      if ((id - 1) % ordersPerChunk === 0) orderItemStarts.push(total);
      total += this.itemCount(id);
    }
    return { orderItemStarts, totalItems: total };
  }

  /** How many cart lines user `id` has: the first draw of its stream. */
  private cartCount(id: number): number {
    if (this.size.products === 0) return 0;
    const lines = this.cartRng.at(id).weighted(CART_LINES);
    return Math.min(lines, this.size.products);
  }

  cartLayout(usersPerChunk: number): { cartStarts: number[]; totalCarts: number } {
    const cartStarts: number[] = [];
    let total = 0;
    for (let id = 1; id <= this.size.users; id++) {
      if ((id - 1) % usersPerChunk === 0) cartStarts.push(total);
      total += this.cartCount(id);
    }
    return { cartStarts, totalCarts: total };
  }

  /** Cart lines of users [from, to), ids from `firstCartId`. */
  carts(from: number, to: number, firstCartId: number): RowCells[] {
    const rows: RowCells[] = [];
    const rng = this.cartRng;
    let cartId = firstCartId;
    for (let userId = from; userId < to; userId++) {
      const count = this.cartCount(userId);
      const seen: number[] = [];
      while (seen.length < count) {
        const productId = 1 + rng.below(this.size.products);
        if (seen.includes(productId)) continue;
        seen.push(productId);
        const createdAt = REFERENCE_TIME - rng.below(30 * DAY_MS);
        const updatedAt = rng.chance(20) ? Math.min(REFERENCE_TIME, createdAt + rng.below(DAY_MS)) : createdAt;
        rows.push([
          cartId++,
          userId,
          productId,
          rng.weighted(CART_QUANTITY),
          sqlDateTime(createdAt),
          sqlDateTime(updatedAt),
        ]);
      }
    }
    return rows;
  }

  private userCreatedAt(id: number): number {
    return USERS_FROM + Math.floor(((id - 1) / this.size.users) * USERS_SPAN);
  }
}
