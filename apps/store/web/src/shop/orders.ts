/**
 * Checkout and the shopper's orders. Checkout is the contract's `checkout` transaction: the stock taken only if enough
 * remains and the price is still the one shown, the order and its lines at that price, the cart cleared, all or
 * nothing on whichever store the phase makes authoritative.
 */
import { TransactionFailed, TransactionRefused } from "@ferry/runtime";
import type { CheckoutResult, Order, OrderItem, Page, Store } from "@ferry/store-data";
import { invalid, notFound, ShopError } from "../http/errors.ts";
import type { Cart } from "./cart.ts";
import { everyPage } from "./catalog.ts";
import type { Body } from "./forms.ts";
import { formatCents, parseCents } from "./money.ts";
import { authorize } from "./payment.ts";

/** The statuses an order can be cancelled in (the contract's cancelOrder refuses the others too). */
export const CANCELLABLE: ReadonlySet<string> = new Set(["pending", "paid"]);

export interface OrderDetail {
  order: Order;
  /** Each line with its product's name (the copy taken at checkout on DynamoDB, the product's on MySQL). */
  lines: Array<OrderItem & { name: string }>;
}

export class Orders {
  constructor(
    private readonly store: Store,
    private readonly cart: Cart,
  ) {}

  /** Pays (simulated) and places the order; nothing is written when the payment or a check fails. */
  async checkout(userId: bigint, body: Body): Promise<CheckoutResult> {
    const cart = await this.cart.view(userId);
    if (cart.lines.length === 0) throw new ShopError(400, "cart_empty", "Your cart is empty.");
    for (const { line, product } of cart.lines) {
      if (product === undefined) {
        throw new ShopError(409, "product_gone", "A product in your cart is no longer sold; remove it and try again.");
      }
      if (line.quantity > product.inventoryQuantity) {
        throw invalid(
          { [`line-${line.productId}`]: `Only ${product.inventoryQuantity} of ${product.name} left.` },
          "Some products do not have enough stock for your cart.",
        );
      }
    }
    // The total the shopper was shown (the form sends it): a price changed since is not charged unseen.
    const shown = body.expectedTotal;
    if (shown !== undefined && shown !== "") {
      const cents = typeof shown === "string" ? parseCents(shown) : undefined;
      if (cents === undefined) throw invalid({ expectedTotal: "The total must be an amount like 12.50." });
      if (cents !== cart.total) {
        throw new ShopError(
          409,
          "total_changed",
          `Your cart's total is now ${formatCents(cart.total)}: a price changed. Nothing was charged; review your cart.`,
        );
      }
    }
    authorize(body);
    const lines = cart.lines.map(({ line, product }) => ({
      productId: line.productId,
      quantity: line.quantity,
      priceAtTime: (product as NonNullable<typeof product>).price,
    }));
    try {
      return await this.store.transactions.checkout({
        order: { userId, totalAmount: formatCents(cart.total), status: "paid" },
        lines,
        cart: cart.lines.map(({ line }) => ({ id: line.id, userId, productId: line.productId })),
      });
    } catch (error) {
      if (error instanceof TransactionRefused && /over DynamoDB's limit/.test(error.message)) {
        throw new ShopError(
          409,
          "order_too_large",
          "This order is too large to place at once; split it into smaller orders.",
        );
      }
      if (error instanceof TransactionFailed && error.step === 1) {
        throw new ShopError(
          409,
          "stock_or_price_changed",
          "A product's stock or price changed while you were checking out. Nothing was charged; review your cart.",
        );
      }
      // The cart's lines are gone or changed since they were read: the same cart checked out in another tab.
      if (error instanceof TransactionFailed && error.step === 4) {
        throw new ShopError(
          409,
          "cart_changed",
          "Your cart changed while you were checking out (was it checked out in another tab?). Nothing was charged; see your orders.",
        );
      }
      throw error;
    }
  }

  /**
   * Cancels an order of this user that is not shipped yet: the contract's `cancelOrder` transaction sets its status
   * and gives each line's quantity back to the stock, together (the payment is refunded, simulated).
   */
  async cancel(userId: bigint, id: bigint): Promise<void> {
    const { order, lines } = await this.detail(userId, id);
    if (!CANCELLABLE.has(order.status)) {
      throw new ShopError(409, "not_cancellable", `This order is ${order.status}: it can no longer be cancelled.`);
    }
    try {
      await this.store.transactions.cancelOrder({
        order: { id },
        lines: lines.map((line) => ({
          id: line.id,
          orderId: line.orderId,
          productId: line.productId,
          quantity: line.quantity,
          priceAtTime: line.priceAtTime,
        })),
      });
    } catch (error) {
      if (error instanceof TransactionFailed) {
        throw new ShopError(409, "not_cancellable", "This order changed meanwhile and can no longer be cancelled.");
      }
      throw error;
    }
  }

  async history(userId: bigint, limit: number, cursor?: string): Promise<Page<Order>> {
    return this.store.orders.listOrdersByUserId({ userId }, cursor === undefined ? { limit } : { limit, cursor });
  }

  /** An order of this user (another user's is not found, as one that does not exist). */
  async detail(userId: bigint, id: bigint): Promise<OrderDetail> {
    const order = await this.store.orders.getOrderByIdAndUserId({ id, userId });
    if (order === undefined) throw notFound("This order");
    const lines = await everyPage((page) => this.store.orderItems.listOrderItemsByOrderId({ orderId: id }, page));
    const named = await Promise.all(
      lines.map(async (line) => ({
        ...line,
        name:
          line.productName ??
          (await this.store.products.get({ id: line.productId }))?.name ??
          `Product ${line.productId}`,
      })),
    );
    return { order, lines: named };
  }
}
