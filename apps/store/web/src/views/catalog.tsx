/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The catalog pages: home, a category, a product, search results. */
import type { Category, Product } from "@ferry/store-data";
import { type CategoryNode, filterParams, type ProductFilters, type ProductView } from "../shop/catalog.ts";
import { displayPrice } from "../shop/money.ts";
import { Csrf, Layout, type Notice, type Viewer } from "./layout.tsx";
import { EMPTY_FORM, Field, FieldError, type FormState, Pager, ProductCard, ProductImage } from "./parts.tsx";

export function CategoryTree(props: { tree: CategoryNode[]; current?: bigint }) {
  return (
    <aside class="tree" aria-label="Categories">
      <ul>
        {props.tree.map((root) => (
          <li>
            <a href={`/categories/${root.id}`} class={root.id === props.current ? "current" : undefined}>
              {root.name}
            </a>
            {root.children.length > 0 ? (
              <ul>
                {root.children.map((child) => (
                  <li>
                    <a href={`/categories/${child.id}`} class={child.id === props.current ? "current" : undefined}>
                      {child.name}
                    </a>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ul>
    </aside>
  );
}

export function HomePage(props: { viewer: Viewer; tree: CategoryNode[]; notice?: Notice }) {
  return (
    <Layout title="Home" viewer={props.viewer} notice={props.notice}>
      <h1>Shop by category</h1>
      <div class="grid">
        {props.tree.map((root) => (
          <article class="card">
            <div class="body">
              <a class="name" href={`/categories/${root.id}`}>
                {root.name}
              </a>
              <span class="muted small">{root.children.map((child) => child.name).join(" · ") || "\u00a0"}</span>
            </div>
          </article>
        ))}
      </div>
    </Layout>
  );
}

export function CategoryPage(props: {
  viewer: Viewer;
  tree: CategoryNode[];
  category: Category;
  parent?: Category;
  products: Product[];
  cursor?: string;
  filters: ProductFilters;
  form: FormState;
  paged: boolean;
  notice?: Notice;
}) {
  const base = `/categories/${props.category.id}`;
  return (
    <Layout title={props.category.name} viewer={props.viewer} notice={props.notice}>
      <div class="layout">
        <CategoryTree tree={props.tree} current={props.category.id} />
        <section>
          <div class="crumbs">
            <a href="/">Home</a>
            {props.parent ? (
              <>
                {" › "}
                <a href={`/categories/${props.parent.id}`}>{props.parent.name}</a>
              </>
            ) : null}
          </div>
          <h1>{props.category.name}</h1>
          <ListingFilters action={base} form={props.form} />
          {props.products.length === 0 ? (
            <p class="muted">
              {Object.keys(filterParams(props.filters)).length > 0
                ? "No products match these filters."
                : "No products here yet."}
            </p>
          ) : (
            <div class="grid">
              {props.products.map((product) => (
                <ProductCard product={product} />
              ))}
            </div>
          )}
          <Pager base={base} params={filterParams(props.filters)} cursor={props.cursor} paged={props.paged} />
        </section>
      </div>
    </Layout>
  );
}

/** Search results: the products whose name has every word typed, the newest first. */
export function SearchPage(props: {
  viewer: Viewer;
  query: string;
  error?: string;
  products?: Product[];
  cursor?: string;
  paged: boolean;
  notice?: Notice;
}) {
  const title = props.query === "" || props.error ? "Search" : `Search: ${props.query}`;
  return (
    <Layout title={title} viewer={props.viewer} notice={props.notice} query={props.query}>
      <div class="crumbs">
        <a href="/">Home</a>
      </div>
      <h1>{props.query === "" || props.error ? "Search" : `Results for “${props.query}”`}</h1>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : props.products === undefined ? (
        <p class="muted">Type a few words of a product's name in the search box above.</p>
      ) : props.products.length === 0 ? (
        <p class="muted">No product has all of these words in its name. Try fewer words.</p>
      ) : (
        <div class="grid">
          {props.products.map((product) => (
            <ProductCard product={product} />
          ))}
        </div>
      )}
      <Pager base="/search" params={{ q: props.query }} cursor={props.cursor} paged={props.paged} />
    </Layout>
  );
}

/** Sort and filter a category's listing: a GET form, so that a filtered page is a link like any other. */
function ListingFilters(props: { action: string; form: FormState }) {
  const { values, errors } = props.form;
  const sort = values.sort ?? "newest";
  return (
    <form class="filters" method="get" action={props.action} aria-label="Sort and filter">
      <div class={errors.sort ? "field has-error" : "field"}>
        <label for="f-sort">Sort by</label>
        <select id="f-sort" name="sort">
          <option value="newest" selected={sort === "newest"}>
            Newest
          </option>
          <option value="price-asc" selected={sort === "price-asc"}>
            Price: low to high
          </option>
          <option value="price-desc" selected={sort === "price-desc"}>
            Price: high to low
          </option>
        </select>
        <FieldError form={props.form} name="sort" />
      </div>
      <Field form={props.form} name="minPrice" label="Min price" inputmode="decimal" placeholder="0.00" />
      <Field form={props.form} name="maxPrice" label="Max price" inputmode="decimal" placeholder="0.00" />
      <label class="check">
        <input
          class="check-box"
          type="checkbox"
          name="inStock"
          value="1"
          checked={["1", "true", "on"].includes(values.inStock ?? "")}
        />{" "}
        In stock only
      </label>
      <button type="submit" class="secondary">
        Apply
      </button>
    </form>
  );
}

export function ProductPage(props: { viewer: Viewer; product: ProductView; form?: FormState; notice?: Notice }) {
  const { product } = props;
  const form = props.form ?? EMPTY_FORM;
  return (
    <Layout title={product.name} viewer={props.viewer} notice={props.notice}>
      <div class="crumbs">
        <a href="/">Home</a>
        {product.category ? (
          <>
            {" › "}
            <a href={`/categories/${product.category.id}`}>{product.category.name}</a>
          </>
        ) : null}
      </div>
      <div class="product">
        <ProductImage product={product} />
        <section>
          <h1>{product.name}</h1>
          <p class="price">{displayPrice(product.price)}</p>
          <p class="muted">Sold by {product.seller}</p>
          {product.description ? <p>{product.description}</p> : null}
          <p>{product.inventoryQuantity > 0 ? `${product.inventoryQuantity} in stock` : "Out of stock"}</p>
          {product.inventoryQuantity > 0 ? (
            <form method="post" action="/cart" class="panel">
              <Csrf viewer={props.viewer} />
              <input type="hidden" name="productId" value={product.id.toString()} />
              <div class={form.errors.quantity ? "field has-error" : "field"}>
                <label for="f-quantity">Quantity</label>
                <input
                  id="f-quantity"
                  class="qty"
                  name="quantity"
                  type="number"
                  min="1"
                  max={String(Math.min(99, product.inventoryQuantity))}
                  value={form.values.quantity ?? "1"}
                />
                <FieldError form={form} name="quantity" />
              </div>
              <button type="submit">Add to cart</button>
            </form>
          ) : null}
        </section>
      </div>
    </Layout>
  );
}
