/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The seller's dashboard, products and product form. */
import type { Product } from "@ferry/store-data";
import type { CategoryNode } from "../shop/catalog.ts";
import { displayPrice } from "../shop/money.ts";
import type { SellerFigures } from "../shop/sellers.ts";
import { Csrf, Layout, type Notice, type Viewer } from "./layout.tsx";
import { EMPTY_FORM, Field, FieldError, type FormState, Pager } from "./parts.tsx";

export function SellerPage(props: {
  viewer: Viewer;
  figures: SellerFigures;
  products: Product[];
  cursor?: string;
  paged: boolean;
  notice?: Notice;
}) {
  const { figures } = props;
  return (
    <Layout title="Your shop" viewer={props.viewer} notice={props.notice}>
      <div class="row" style="justify-content:space-between">
        <h1>Your shop</h1>
        <a class="button" href="/seller/products/new">
          New product
        </a>
      </div>
      <div class="figures">
        {(
          [
            ["Orders", "orders", figures.orders],
            ["Units sold", "sold", figures.unitsSold],
            ["Revenue", "revenue", displayPrice(figures.revenue)],
            ["Products", "products", figures.products],
            ["Units in stock", "units", figures.unitsInStock],
            ["Stock value", "value", displayPrice(figures.stockValue)],
            ["Out of stock", "out", figures.outOfStock.length],
          ] as const
        ).map(([label, key, value]) => (
          <div class="figure">
            <div class="muted small">{label}</div>
            <div class="value" data-figure={key}>
              {value}
            </div>
          </div>
        ))}
      </div>
      {figures.bestSellers.length > 0 ? (
        <p class="muted">
          Best sellers: {figures.bestSellers.map((b) => `${b.product.name} (${b.unitsSold} sold)`).join(", ")}
        </p>
      ) : null}
      {figures.lowStock.length > 0 ? (
        <p class="notice error">
          Running low: {figures.lowStock.map((p) => `${p.name} (${p.inventoryQuantity})`).join(", ")}
        </p>
      ) : null}
      <h2>Products</h2>
      {props.products.length === 0 ? (
        <p class="muted">No products yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th class="num">Price</th>
                <th class="num">Stock</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {props.products.map((product) => (
                <tr>
                  <td>
                    <a href={`/products/${product.id}`}>{product.name}</a>
                  </td>
                  <td class="num">{displayPrice(product.price)}</td>
                  <td class="num">{product.inventoryQuantity}</td>
                  <td>
                    <a href={`/seller/products/${product.id}`}>Edit</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base="/seller" cursor={props.cursor} paged={props.paged} />
    </Layout>
  );
}

export function ProductFormPage(props: {
  viewer: Viewer;
  tree: CategoryNode[];
  product?: Product;
  form?: FormState;
  notice?: Notice;
}) {
  const form = props.form ?? EMPTY_FORM;
  const product = props.product;
  const action = product ? `/seller/products/${product.id}` : "/seller/products";
  const chosen = form.values.categoryId ?? product?.categoryId.toString() ?? "";
  return (
    <Layout title={product ? `Edit ${product.name}` : "New product"} viewer={props.viewer} notice={props.notice}>
      <div class="narrow panel">
        <h1>{product ? "Edit product" : "New product"}</h1>
        <form method="post" action={action}>
          <Csrf viewer={props.viewer} />
          {product ? (
            <input
              type="hidden"
              name="shownStock"
              value={form.values.shownStock ?? String(product.inventoryQuantity)}
            />
          ) : null}
          <Field form={form} name="name" label="Name" value={product?.name} required />
          <div class={form.errors.categoryId ? "field has-error" : "field"}>
            <label for="f-categoryId">Category</label>
            <select id="f-categoryId" name="categoryId" required>
              <option value="">Choose…</option>
              {props.tree.map((root) => (
                <optgroup label={root.name}>
                  <option value={root.id.toString()} selected={chosen === root.id.toString()}>
                    {root.name}
                  </option>
                  {root.children.map((child) => (
                    <option value={child.id.toString()} selected={chosen === child.id.toString()}>
                      {`${root.name} › ${child.name}`}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
            <FieldError form={form} name="categoryId" />
          </div>
          <Field form={form} name="price" label="Price (USD)" inputmode="decimal" value={product?.price} required />
          <Field
            form={form}
            name="inventoryQuantity"
            label="Stock"
            type="number"
            value={product ? String(product.inventoryQuantity) : "0"}
            required
          />
          <Field
            form={form}
            name="imageUrl"
            label="Image address (optional)"
            type="url"
            value={product?.imageUrl ?? ""}
          />
          <div class={form.errors.description ? "field has-error" : "field"}>
            <label for="f-description">Description (optional)</label>
            <textarea id="f-description" name="description">
              {form.values.description ?? product?.description ?? ""}
            </textarea>
            <FieldError form={form} name="description" />
          </div>
          <button type="submit">{product ? "Save" : "Create product"}</button>
        </form>
      </div>
    </Layout>
  );
}
