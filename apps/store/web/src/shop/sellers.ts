/**
 * What sellers do: list their products, create and edit them, and see their figures. A seller reaches only their own
 * products: another seller's is not found, as one that does not exist.
 */
import { ConditionFailed } from "@ferry/runtime";
import type { Page, Product, Store, User } from "@ferry/store-data";
import { invalid, notFound, ShopError } from "../http/errors.ts";
import { everyPage } from "./catalog.ts";
import { type Body, FormReader } from "./forms.ts";
import { cents } from "./money.ts";

export interface SellerFigures {
  /** Orders with a line of the seller's (cancelled ones left out). */
  orders: number;
  unitsSold: number;
  /** Cents: each line's quantity times its price at checkout. */
  revenue: bigint;
  /** The products that sold the most units, up to 3. */
  bestSellers: Array<{ product: Product; unitsSold: number }>;
  products: number;
  unitsInStock: number;
  /** Cents: each product's price times its stock. */
  stockValue: bigint;
  outOfStock: Product[];
  lowStock: Product[];
}

/** A product with this few left shows on the dashboard. */
export const LOW_STOCK = 5;

export class Sellers {
  constructor(private readonly store: Store) {}

  static requireSeller(user: User): void {
    if (!user.isSeller)
      throw new ShopError(403, "not_a_seller", "Only sellers can do this. Become a seller from your profile.");
  }

  async products(seller: User, limit: number, cursor?: string): Promise<Page<Product>> {
    Sellers.requireSeller(seller);
    return this.store.products.listProductsBySellerId(
      { sellerId: seller.id },
      cursor === undefined ? { limit } : { limit, cursor },
    );
  }

  async product(seller: User, id: bigint): Promise<Product> {
    Sellers.requireSeller(seller);
    const product = await this.store.products.get({ id });
    if (product === undefined || product.sellerId !== seller.id) throw notFound("This product");
    return product;
  }

  private async read(body: Body) {
    const form = new FormReader(body);
    const name = form.text("name", "Name", { max: 200 });
    const description = form.optionalText("description", "Description", 5_000);
    const price = form.price("price", "Price");
    const inventoryQuantity = form.integer("inventoryQuantity", "Stock", 0, 1_000_000);
    const categoryId = form.id("categoryId", "category");
    const imageUrl = form.optionalUrl("imageUrl", "Image address");
    form.done();
    if ((await this.store.categories.get({ id: categoryId })) === undefined) {
      throw invalid({ categoryId: "Choose a category from the list." });
    }
    return { name, description: description ?? null, price, inventoryQuantity, categoryId, imageUrl: imageUrl ?? null };
  }

  async create(seller: User, body: Body): Promise<Product> {
    Sellers.requireSeller(seller);
    const values = await this.read(body);
    return this.store.products.create({ ...values, sellerId: seller.id });
  }

  /** Changes a product; fields left out keep their value. */
  async update(seller: User, id: bigint, body: Body): Promise<void> {
    const current = await this.product(seller, id);
    const values = await this.read({
      name: current.name,
      description: current.description ?? "",
      price: current.price,
      inventoryQuantity: String(current.inventoryQuantity),
      categoryId: current.categoryId.toString(),
      imageUrl: current.imageUrl ?? "",
      ...body,
    });
    // Only over the stock the form showed (sent back with it), or else the one just read: a sale made meanwhile is
    // not undone.
    const shown =
      typeof body.shownStock === "string" && /^[0-9]{1,10}$/.test(body.shownStock)
        ? Number(body.shownStock)
        : current.inventoryQuantity;
    try {
      await this.store.products.update(
        { id },
        { ...values, updatedAt: new Date().toISOString() },
        { condition: [{ attribute: "inventoryQuantity", op: "=", value: shown }] },
      );
    } catch (error) {
      if (!(error instanceof ConditionFailed)) throw error;
      throw new ShopError(
        409,
        "changed",
        "The stock changed while you were editing (a sale, or another edit). Nothing was saved; check the new figures and save again.",
      );
    }
  }

  async figures(seller: User): Promise<SellerFigures> {
    Sellers.requireSeller(seller);
    const all = await everyPage((page) => this.store.products.listProductsBySellerId({ sellerId: seller.id }, page));
    // Sales: each product's order lines (listOrderItemsByProductId), counted unless their order was cancelled.
    const lines = (
      await inBatches(all, (product) =>
        everyPage((page) => this.store.orderItems.listOrderItemsByProductId({ productId: product.id }, page)),
      )
    ).flat();
    const orderIds = [...new Set(lines.map((line) => line.orderId))];
    const orders = await inBatches(orderIds, (id) => this.store.orders.get({ id }));
    const cancelled = new Set(orders.filter((o) => o?.status === "cancelled").map((o) => o?.id));
    const sold = lines.filter((line) => !cancelled.has(line.orderId));
    const units = new Map<bigint, number>();
    for (const line of sold) units.set(line.productId, (units.get(line.productId) ?? 0) + line.quantity);
    return {
      orders: new Set(sold.map((line) => line.orderId)).size,
      unitsSold: sold.reduce((sum, line) => sum + line.quantity, 0),
      revenue: sold.reduce((sum, line) => sum + cents(line.priceAtTime) * BigInt(line.quantity), 0n),
      bestSellers: all
        .filter((product) => (units.get(product.id) ?? 0) > 0)
        .map((product) => ({ product, unitsSold: units.get(product.id) ?? 0 }))
        .sort((a, b) => b.unitsSold - a.unitsSold || (a.product.id < b.product.id ? -1 : 1))
        .slice(0, 3),
      products: all.length,
      unitsInStock: all.reduce((sum, p) => sum + p.inventoryQuantity, 0),
      stockValue: all.reduce((sum, p) => sum + cents(p.price) * BigInt(p.inventoryQuantity), 0n),
      outOfStock: all.filter((p) => p.inventoryQuantity === 0),
      lowStock: all.filter((p) => p.inventoryQuantity > 0 && p.inventoryQuantity <= LOW_STOCK),
    };
  }
}

/** `read` of every value, 8 at a time, in order. */
async function inBatches<T, R>(values: readonly T[], read: (value: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < values.length; start += 8) {
    out.push(...(await Promise.all(values.slice(start, start + 8).map(read))));
  }
  return out;
}
