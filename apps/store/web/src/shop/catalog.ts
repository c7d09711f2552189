/**
 * The catalog as shoppers browse it: the two-level category tree, a category's products (a parent's include its
 * children's, newest first), and a product with its category and seller.
 */
import type { Category, Page, PageRequest, Product, Store } from "@ferry/store-data";
import { notFound } from "../http/errors.ts";
import { mergedPage } from "./merged-pages.ts";

export interface CategoryNode extends Category {
  children: Category[];
}

export interface ProductView extends Product {
  category?: Category;
  seller: string;
}

/** Every page of a listing. */
export async function everyPage<T>(list: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor === undefined ? { limit: 200 } : { limit: 200, cursor });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

const byName = (a: Category, b: Category) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1);

/**
 * A product's place in a category listing, which serves the newest first (listProductsByCategoryId: created at, then
 * id, descending): a string that sorts the same way (ISO times sort as text; ids padded).
 */
export const newestKey = (product: Product) => `${product.createdAt}#${product.id.toString().padStart(20, "0")}`;

export class Catalog {
  constructor(private readonly store: Store) {}

  /** The roots, each with its children, by name. */
  async tree(): Promise<CategoryNode[]> {
    const all = await everyPage((page) => this.store.categories.listCategories(page));
    const roots = all.filter((category) => category.parentId === null).sort(byName);
    return roots.map((root) => ({
      ...root,
      children: all.filter((category) => category.parentId === root.id).sort(byName),
    }));
  }

  async category(id: bigint): Promise<Category> {
    const category = await this.store.categories.get({ id });
    if (category === undefined) throw notFound("This category");
    return category;
  }

  /** A category's products, newest first; a parent's include its children's. */
  async products(category: Category, limit: number, cursor?: string): Promise<{ items: Product[]; cursor?: string }> {
    const children =
      category.parentId === null
        ? await everyPage((page) => this.store.categories.listCategoriesByParentId({ parentId: category.id }, page))
        : [];
    const ids = [category.id, ...children.map((child) => child.id)];
    const sources = ids.map((categoryId) => ({
      id: categoryId.toString(),
      list: (page: PageRequest) => this.store.products.listProductsByCategoryId({ categoryId }, page),
    }));
    return mergedPage(sources, newestKey, limit, cursor);
  }

  async product(id: bigint): Promise<ProductView> {
    const product = await this.store.products.get({ id });
    if (product === undefined) throw notFound("This product");
    const [category, seller] = await Promise.all([
      this.store.categories.get({ id: product.categoryId }),
      product.sellerName === undefined ? this.store.users.get({ id: product.sellerId }) : undefined,
    ]);
    return {
      ...product,
      ...(category === undefined ? {} : { category }),
      seller: product.sellerName ?? seller?.username ?? "a seller",
    };
  }
}
