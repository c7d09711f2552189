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
    return {
      products: all.length,
      unitsInStock: all.reduce((sum, p) => sum + p.inventoryQuantity, 0),
      stockValue: all.reduce((sum, p) => sum + cents(p.price) * BigInt(p.inventoryQuantity), 0n),
      outOfStock: all.filter((p) => p.inventoryQuantity === 0),
      lowStock: all.filter((p) => p.inventoryQuantity > 0 && p.inventoryQuantity <= LOW_STOCK),
    };
  }
}
