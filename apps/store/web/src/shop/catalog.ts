/**
 * The catalog as shoppers browse it: the two-level category tree, a category's products (a parent's include its
 * children's, newest first), and a product with its category and seller.
 */
import type { Category, Page, PageRequest, Product, Store } from "@ferry/store-data";
import { notFound, ShopError } from "../http/errors.ts";
import { type Body, FormReader } from "./forms.ts";
import { mergedPage } from "./merged-pages.ts";
import { cents } from "./money.ts";

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

/**
 * A product's place in a listing by price (listProductsByCategoryIdByPrice: price, then id): the price's whole part
 * padded, its cents, the id padded, so that it sorts the same way.
 */
export const priceKey = (product: Product) => {
  const amount = cents(product.price);
  return `${(amount / 100n).toString().padStart(12, "0")}.${(amount % 100n).toString().padStart(2, "0")}#${product.id.toString().padStart(20, "0")}`;
};

export const PRODUCT_SORTS = ["newest", "price-asc", "price-desc"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** How a category's listing is sorted and filtered (the query string of its page and of the API). */
export interface ProductFilters {
  sort: ProductSort;
  minPrice?: string;
  maxPrice?: string;
  inStock: boolean;
}

export const NO_FILTERS: ProductFilters = { sort: "newest", inStock: false };

/** The filters in a query string (sort, minPrice, maxPrice, inStock); a 400 with a message per field when bad. */
export function readFilters(query: Body): ProductFilters {
  const form = new FormReader(query);
  const sort = form.choice("sort", "Sort", PRODUCT_SORTS);
  const minPrice = form.optionalPrice("minPrice", "The lowest price");
  const maxPrice = form.optionalPrice("maxPrice", "The highest price");
  const inStock = form.flag("inStock", "In stock");
  if (minPrice !== undefined && maxPrice !== undefined && cents(minPrice) > cents(maxPrice)) {
    form.reject("maxPrice", "The highest price must not be below the lowest.");
  }
  form.done();
  return {
    sort,
    ...(minPrice === undefined ? {} : { minPrice }),
    ...(maxPrice === undefined ? {} : { maxPrice }),
    inStock,
  };
}

/** What to search for (`q`): at most 200 characters; a 400 with the field's message otherwise. */
export function readSearch(query: Body): string {
  const form = new FormReader(query);
  const text = form.optionalText("q", "The search", 200) ?? "";
  form.done();
  return text;
}

/** The filters as query parameters (the defaults left out), for links to the next page. */
export function filterParams(filters: ProductFilters): Record<string, string> {
  return {
    ...(filters.sort === "newest" ? {} : { sort: filters.sort }),
    ...(filters.minPrice === undefined ? {} : { minPrice: filters.minPrice }),
    ...(filters.maxPrice === undefined ? {} : { maxPrice: filters.maxPrice }),
    ...(filters.inStock ? { inStock: "1" } : {}),
  };
}

/** How long the category tree is kept before it is read again (the store never changes categories itself). */
export const CATEGORY_TTL_MS = 5_000;

export class Catalog {
  /** Every category, read at most once per CATEGORY_TTL_MS (one read in flight at a time). */
  private categories: { at: number; all: Promise<Category[]> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly categoryTtlMs = CATEGORY_TTL_MS,
  ) {}

  /** Every category: the tree every page shows, kept a few seconds (from whichever store the phase reads). */
  private allCategories(): Promise<Category[]> {
    const now = Date.now();
    if (this.categories === undefined || now - this.categories.at >= this.categoryTtlMs) {
      const all = everyPage((page) => this.store.categories.listCategories(page));
      this.categories = { at: now, all };
      // A failed read is not kept: the next request reads again.
      all.catch(() => {
        if (this.categories?.all === all) this.categories = undefined;
      });
    }
    return this.categories.all;
  }

  /** The roots, each with its children, by name. */
  async tree(): Promise<CategoryNode[]> {
    const all = await this.allCategories();
    const roots = all.filter((category) => category.parentId === null).sort(byName);
    return roots.map((root) => ({
      ...root,
      children: all.filter((category) => category.parentId === root.id).sort(byName),
    }));
  }

  /** A category by id: from the kept tree, or read by key when it is newer than the tree. */
  async category(id: bigint): Promise<Category> {
    const category =
      (await this.allCategories()).find((candidate) => candidate.id === id) ??
      (await this.store.categories.get({ id }));
    if (category === undefined) throw notFound("This category");
    return category;
  }

  /** A category's products, newest first or by price, maybe filtered; a parent's include its children's. */
  async products(
    category: Category,
    limit: number,
    cursor?: string,
    filters: ProductFilters = NO_FILTERS,
  ): Promise<{ items: Product[]; cursor?: string }> {
    const children =
      category.parentId === null
        ? (await this.allCategories()).filter((candidate) => candidate.parentId === category.id)
        : [];
    const ids = [category.id, ...children.map((child) => child.id)];
    const { sort, ...wanted } = filters;
    const sources = ids.map((categoryId) => ({
      id: categoryId.toString(),
      list: (page: PageRequest) =>
        sort === "newest"
          ? this.store.products.listProductsByCategoryId({ categoryId }, wanted, page)
          : this.store.products.listProductsByCategoryIdByPrice(
              { categoryId },
              wanted,
              sort === "price-desc" ? { ...page, order: "desc" } : page,
            ),
    }));
    const order = sort === "price-asc" ? "asc" : "desc";
    const variant = JSON.stringify(filterParams(filters));
    return mergedPage(sources, sort === "newest" ? newestKey : priceKey, limit, cursor, { order, variant });
  }

  /** The products whose name has every word of `text` (the contract's word index), the newest first. */
  async search(text: string, limit: number, cursor?: string): Promise<{ items: Product[]; cursor?: string }> {
    const page = await this.store.products.searchProductsByName(
      { name: text },
      cursor === undefined ? { limit } : { limit, cursor },
    );
    return page.cursor === undefined ? { items: page.items } : { items: page.items, cursor: page.cursor };
  }

  async product(id: bigint): Promise<ProductView> {
    const product = await this.store.products.get({ id });
    if (product === undefined) throw notFound("This product");
    const [category, seller] = await Promise.all([
      this.category(product.categoryId).catch((error: unknown) => {
        if (error instanceof ShopError && error.status === 404) return undefined;
        throw error;
      }),
      product.sellerName === undefined ? this.store.users.get({ id: product.sellerId }) : undefined,
    ]);
    return {
      ...product,
      ...(category === undefined ? {} : { category }),
      seller: product.sellerName ?? seller?.username ?? "a seller",
    };
  }
}
