/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The cart, checkout and the shopper's orders. */
import type { Order, OrderItem } from "@ferry/store-data";
import type { CartView } from "../shop/cart.ts";
import { cents, displayPrice, formatCents } from "../shop/money.ts";
import { CANCELLABLE } from "../shop/orders.ts";
import { APPROVED_TEST_CARD, DECLINING_TEST_CARD } from "../shop/payment.ts";
import { Csrf, Layout, type Notice, type Viewer } from "./layout.tsx";
import { EMPTY_FORM, Field, FieldError, type FormState, Pager } from "./parts.tsx";

export function CartPage(props: { viewer: Viewer; cart: CartView; form?: FormState; notice?: Notice }) {
  const form = props.form ?? EMPTY_FORM;
  const { cart } = props;
  return (
    <Layout title="Your cart" viewer={props.viewer} notice={props.notice}>
      <h1>Your cart</h1>
      {cart.lines.length === 0 ? (
        <p class="muted">
          Your cart is empty. <a href="/">Browse the shop</a>.
        </p>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Product</th>
                  <th class="num">Price</th>
                  <th>Quantity</th>
                  <th class="num">Subtotal</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {cart.lines.map(({ line, product, subtotal }) => (
                  <tr data-product={line.productId.toString()}>
                    <td>
                      {product ? (
                        <a href={`/products/${product.id}`}>{product.name}</a>
                      ) : (
                        <span class="muted">No longer sold</span>
                      )}
                      <FieldError form={form} name={`line-${line.productId}`} />
                    </td>
                    <td class="num">{product ? displayPrice(product.price) : "–"}</td>
                    <td>
                      <form method="post" action={`/cart/${line.productId}`} class="row">
                        <Csrf viewer={props.viewer} />
                        <input
                          class="qty"
                          type="number"
                          name="quantity"
                          min="0"
                          max="99"
                          value={String(line.quantity)}
                          aria-label="Quantity"
                        />
                        <button type="submit" class="secondary">
                          Update
                        </button>
                      </form>
                    </td>
                    <td class="num">{displayPrice(subtotal)}</td>
                    <td>
                      <form method="post" action={`/cart/${line.productId}/remove`}>
                        <Csrf viewer={props.viewer} />
                        <button type="submit" class="danger">
                          Remove
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="price" style="text-align:right">
            Total {displayPrice(cart.total)}
          </p>
          <p style="text-align:right">
            <a class="button" href="/checkout">
              Check out
            </a>
          </p>
        </>
      )}
    </Layout>
  );
}

export function CheckoutPage(props: { viewer: Viewer; cart: CartView; form?: FormState; notice?: Notice }) {
  const form = props.form ?? EMPTY_FORM;
  return (
    <Layout title="Checkout" viewer={props.viewer} notice={props.notice}>
      <div class="narrow panel">
        <h1>Checkout</h1>
        <p>
          {props.cart.count} item{props.cart.count === 1 ? "" : "s"}, total{" "}
          <strong>{displayPrice(props.cart.total)}</strong>
        </p>
        <form method="post" action="/checkout">
          <Csrf viewer={props.viewer} />
          <input type="hidden" name="expectedTotal" value={formatCents(props.cart.total)} />
          <Field
            form={form}
            name="cardNumber"
            label="Card number"
            inputmode="numeric"
            autocomplete="cc-number"
            required
          />
          <div class="row">
            <div style="flex:1">
              <Field
                form={form}
                name="cardExpiry"
                label="Expiry (MM/YY)"
                placeholder="12/30"
                autocomplete="cc-exp"
                required
              />
            </div>
            <div style="flex:1">
              <Field
                form={form}
                name="cardCvc"
                label="Security code"
                inputmode="numeric"
                autocomplete="cc-csc"
                required
              />
            </div>
          </div>
          <button type="submit">Pay {displayPrice(props.cart.total)}</button>
        </form>
        <p class="muted small">
          Test cards: {APPROVED_TEST_CARD} is approved, {DECLINING_TEST_CARD} is declined.
        </p>
      </div>
    </Layout>
  );
}

export function OrdersPage(props: {
  viewer: Viewer;
  orders: Order[];
  cursor?: string;
  paged: boolean;
  notice?: Notice;
}) {
  return (
    <Layout title="Your orders" viewer={props.viewer} notice={props.notice}>
      <h1>Your orders</h1>
      {props.orders.length === 0 ? (
        <p class="muted">No orders yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Order</th>
                <th>Placed</th>
                <th>Status</th>
                <th class="num">Total</th>
              </tr>
            </thead>
            <tbody>
              {props.orders.map((order) => (
                <tr>
                  <td>
                    <a href={`/orders/${order.id}`}>#{order.id.toString()}</a>
                  </td>
                  <td>{order.createdAt.slice(0, 10)}</td>
                  <td>
                    <span class={`status ${order.status}`}>{order.status}</span>
                  </td>
                  <td class="num">{displayPrice(order.totalAmount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base="/orders" cursor={props.cursor} paged={props.paged} />
    </Layout>
  );
}

export function OrderPage(props: {
  viewer: Viewer;
  order: Order;
  lines: Array<OrderItem & { name: string }>;
  notice?: Notice;
}) {
  const { order } = props;
  return (
    <Layout title={`Order #${order.id}`} viewer={props.viewer} notice={props.notice}>
      <div class="crumbs">
        <a href="/orders">Your orders</a>
      </div>
      <h1>Order #{order.id.toString()}</h1>
      <p>
        Placed {order.createdAt.slice(0, 16).replace("T", " ")} UTC ·{" "}
        <span class={`status ${order.status}`}>{order.status}</span>
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Product</th>
              <th class="num">Price</th>
              <th class="num">Quantity</th>
              <th class="num">Subtotal</th>
            </tr>
          </thead>
          <tbody>
            {props.lines.map((line) => (
              <tr>
                <td>
                  <a href={`/products/${line.productId}`}>{line.name}</a>
                </td>
                <td class="num">{displayPrice(line.priceAtTime)}</td>
                <td class="num">{line.quantity}</td>
                <td class="num">{displayPrice(cents(line.priceAtTime) * BigInt(line.quantity))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="price" style="text-align:right">
        Total {displayPrice(order.totalAmount)}
      </p>
      {CANCELLABLE.has(order.status) ? (
        <form method="post" action={`/orders/${order.id}/cancel`} style="text-align:right">
          <Csrf viewer={props.viewer} />
          <button type="submit" class="danger">
            Cancel this order
          </button>
        </form>
      ) : null}
    </Layout>
  );
}
