/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Pieces the pages share: a form field with its message, a product card and image, a pager. */
import type { Product } from "@ferry/store-data";
import { displayPrice } from "../shop/money.ts";

export interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
}

export const EMPTY_FORM: FormState = { values: {}, errors: {} };

export function Field(props: {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  inputmode?: "decimal" | "numeric" | "email" | "tel" | "url" | "text";
  placeholder?: string;
  value?: string;
}) {
  const error = props.form.errors[props.name];
  const id = `f-${props.name}`;
  const value = props.type === "password" ? "" : (props.form.values[props.name] ?? props.value ?? "");
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={value}
        autocomplete={props.autocomplete}
        required={props.required}
        inputmode={props.inputmode}
        placeholder={props.placeholder}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error ? (
        <div class="error" id={`${id}-error`}>
          {error}
        </div>
      ) : null}
    </div>
  );
}

export function FieldError(props: { form: FormState; name: string }) {
  const error = props.form.errors[props.name];
  return error ? <div class="error">{error}</div> : null;
}

export function ProductImage(props: { product: Pick<Product, "name" | "imageUrl"> }) {
  const initial = props.product.name.trim().charAt(0).toUpperCase() || "?";
  return props.product.imageUrl ? (
    <img class="thumb" src={props.product.imageUrl} alt={props.product.name} data-initial={initial} loading="lazy" />
  ) : (
    <div class="placeholder" role="img" aria-label={props.product.name}>
      {initial}
    </div>
  );
}

export function ProductCard(props: { product: Product }) {
  const { product } = props;
  return (
    <article class="card">
      <a href={`/products/${product.id}`}>
        <ProductImage product={product} />
      </a>
      <div class="body">
        <a class="name" href={`/products/${product.id}`}>
          {product.name}
        </a>
        <span class="price">{displayPrice(product.price)}</span>
        <span class="muted small">
          {product.inventoryQuantity > 0 ? `${product.inventoryQuantity} in stock` : "Out of stock"}
        </span>
      </div>
    </article>
  );
}

/** "Next page" (and back to the first), keeping the other query parameters. */
export function Pager(props: { base: string; params?: Record<string, string>; cursor?: string; paged: boolean }) {
  const query = (extra: Record<string, string>) => {
    const search = new URLSearchParams({ ...(props.params ?? {}), ...extra }).toString();
    return search === "" ? props.base : `${props.base}?${search}`;
  };
  if (!props.paged && props.cursor === undefined) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {props.paged ? <a href={query({})}>← First page</a> : <span />}
      {props.cursor === undefined ? <span /> : <a href={query({ cursor: props.cursor })}>Next page →</a>}
    </nav>
  );
}
