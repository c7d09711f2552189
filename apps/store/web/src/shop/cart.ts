/**
 * The shopper's cart: one line per product, quantities checked against the stock, shown with the products' current
 * prices (lines keep no price: the price is taken at checkout).
 */
import { AlreadyExists, ConditionFailed, NotFound, UniqueViolation, WriteConflict } from "@ferry/runtime";
import type { Product, ShoppingCart, Store } from "@ferry/store-data";
import { invalid, notFound, ShopError } from "../http/errors.ts";
import { everyPage } from "./catalog.ts";
import { cents } from "./money.ts";

/** At most this many of one product in a cart. */
export const MAX_QUANTITY = 99;
/**
 * At most this many products in a cart: a shop's choice, well inside what one checkout can write (per line the
 * product's stock, the order line and the removal of the cart line, with the order in one transaction: DynamoDB takes
 * at most 100 writes in one, 33 lines).
 */
export const MAX_LINES = 15;
/** Tries of an add that keeps meeting another request's write to the same line. */
const ADD_ATTEMPTS = 10;

export interface CartLine {
  line: ShoppingCart;
  /** Undefined when the product has been removed since. */
  product?: Product;
  /** Cents: the current price times the quantity. */
  subtotal: bigint;
}

export interface CartView {
  lines: CartLine[];
  total: bigint;
  count: number;
}

/**
 * The cart as a change saw it: the lines it read, with its own write, and the product it read. (A change another tab
 * made meanwhile shows on the next read of the cart, not here.)
 */
export interface CartChange {
  lines: ShoppingCart[];
  product?: Product;
}

export class Cart {
  constructor(private readonly store: Store) {}

  async lines(userId: bigint): Promise<ShoppingCart[]> {
    return everyPage((page) => this.store.shoppingCarts.listShoppingCartsByUserId({ userId }, page));
  }

  async view(userId: bigint): Promise<CartView> {
    return this.viewOf(await this.lines(userId));
  }

  /** The view of the cart a change left, without reading the cart again (nor the product the change read). */
  async viewAfter(change: CartChange): Promise<CartView> {
    return this.viewOf(change.lines, change.product);
  }

  /** The view of these lines, with their products' current prices (`known`, just read, is not read again). */
  private async viewOf(lines: readonly ShoppingCart[], known?: Product): Promise<CartView> {
    const products = await Promise.all(
      lines.map((line) =>
        known !== undefined && line.productId === known.id ? known : this.store.products.get({ id: line.productId }),
      ),
    );
    const viewed = lines.map((line, i): CartLine => {
      const product = products[i];
      return {
        line,
        ...(product === undefined ? {} : { product }),
        subtotal: product === undefined ? 0n : cents(product.price) * BigInt(line.quantity),
      };
    });
    return {
      lines: viewed,
      total: viewed.reduce((sum, line) => sum + line.subtotal, 0n),
      count: lines.reduce((sum, line) => sum + line.quantity, 0),
    };
  }

  private async product(productId: bigint): Promise<Product> {
    const product = await this.store.products.get({ id: productId });
    if (product === undefined) throw notFound("This product");
    return product;
  }

  private static checkStock(product: Product, quantity: number): void {
    if (quantity > product.inventoryQuantity) {
      throw invalid(
        {
          quantity:
            product.inventoryQuantity === 0
              ? "This product is out of stock."
              : `Only ${product.inventoryQuantity} left in stock.`,
        },
        "Not enough stock.",
      );
    }
  }

  /** Adds `quantity` of a product (to its line, when the cart has one); resolves to the cart as this change saw it. */
  async add(userId: bigint, productId: bigint, quantity: number): Promise<CartChange> {
    const product = await this.product(productId);
    for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
      // After a race, wait a little (full jitter), so that the requests racing for one line take turns.
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));
      const lines = await this.lines(userId);
      const existing = lines.find((line) => line.productId === productId);
      const wanted = (existing?.quantity ?? 0) + quantity;
      if (wanted > MAX_QUANTITY) throw invalid({ quantity: `At most ${MAX_QUANTITY} of one product per order.` });
      Cart.checkStock(product, wanted);
      try {
        if (existing) {
          // Only over the quantity read: two adds at once must not lose one.
          const changes = { quantity: wanted, updatedAt: new Date().toISOString() };
          await this.store.shoppingCarts.update({ id: existing.id, userId, productId }, changes, {
            condition: [{ attribute: "quantity", op: "=", value: existing.quantity }],
          });
          return { lines: lines.map((line) => (line === existing ? { ...line, ...changes } : line)), product };
        }
        if (lines.length >= MAX_LINES) {
          throw invalid({ productId: `A cart holds at most ${MAX_LINES} different products.` }, "Your cart is full.");
        }
        const created = await this.store.shoppingCarts.create({ userId, productId, quantity: wanted });
        return { lines: inProductOrder([...lines, created]), product };
      } catch (error) {
        // Another request changed, added or removed the line meanwhile (on DynamoDB a second line of the same product
        // is the same item: AlreadyExists): read it again.
        const raced =
          error instanceof UniqueViolation ||
          error instanceof AlreadyExists ||
          error instanceof ConditionFailed ||
          error instanceof NotFound ||
          error instanceof WriteConflict;
        if (!raced) throw error;
      }
    }
    throw new ShopError(409, "conflict", "The cart changed while adding; try again.");
  }

  /** Sets a line's quantity; 0 removes it. Resolves to the cart as this change saw it. */
  async setQuantity(userId: bigint, productId: bigint, quantity: number): Promise<CartChange> {
    const lines = await this.lines(userId);
    const existing = lines.find((line) => line.productId === productId);
    if (existing === undefined) throw notFound("This cart line");
    if (quantity === 0) {
      await this.store.shoppingCarts.delete({ id: existing.id, userId, productId });
      return { lines: lines.filter((line) => line !== existing) };
    }
    const product = await this.product(productId);
    Cart.checkStock(product, quantity);
    const changes = { quantity, updatedAt: new Date().toISOString() };
    try {
      await this.store.shoppingCarts.update({ id: existing.id, userId, productId }, changes);
    } catch (error) {
      if (error instanceof NotFound) throw notFound("This cart line");
      throw error;
    }
    return { lines: lines.map((line) => (line === existing ? { ...line, ...changes } : line)), product };
  }

  /** Removes a product's line; resolves to the cart as this change saw it. */
  async remove(userId: bigint, productId: bigint): Promise<CartChange> {
    const lines = await this.lines(userId);
    const existing = lines.find((line) => line.productId === productId);
    if (existing === undefined) throw notFound("This cart line");
    if (!(await this.store.shoppingCarts.delete({ id: existing.id, userId, productId }))) {
      throw notFound("This cart line");
    }
    return { lines: lines.filter((line) => line !== existing) };
  }
}

/** Cart lines in the order both stores list them: by product (the DynamoDB sort key, MySQL's ORDER BY). */
function inProductOrder(lines: ShoppingCart[]): ShoppingCart[] {
  return lines.sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}
