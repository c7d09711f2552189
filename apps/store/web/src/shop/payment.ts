/**
 * The payment step, simulated: a card number that passes the Luhn check is approved, except the declining test card
 * (4000 0000 0000 0002, as card processors' test suites have it), which is declined. Nothing is charged anywhere.
 */
import { invalid, ShopError } from "../http/errors.ts";
import { type Body, FormReader } from "./forms.ts";

export const DECLINING_TEST_CARD = "4000000000000002";
export const APPROVED_TEST_CARD = "4242424242424242";

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The card as the checkout form gives it; throws 400 (a field's message) or 402 (declined). */
export function authorize(body: Body): { last4: string } {
  const form = new FormReader(body);
  const number = form.text("cardNumber", "Card number", { max: 40 }).replace(/[\s-]/g, "");
  const expiry = form.text("cardExpiry", "Expiry", {
    max: 7,
    pattern: /^(0[1-9]|1[0-2])\/[0-9]{2}$/,
    hint: "Expiry must be MM/YY.",
  });
  form.text("cardCvc", "Security code", {
    min: 3,
    max: 4,
    pattern: /^[0-9]{3,4}$/,
    hint: "The security code is 3 or 4 digits.",
  });
  form.done();
  if (!/^[0-9]{12,19}$/.test(number) || !luhn(number)) throw invalid({ cardNumber: "This card number is not valid." });
  const [month, year] = expiry.split("/").map(Number) as [number, number];
  const now = new Date();
  const end = new Date(Date.UTC(2000 + year, month, 1));
  if (end <= now) throw invalid({ cardExpiry: "This card has expired." });
  if (number === DECLINING_TEST_CARD) {
    throw new ShopError(
      402,
      "payment_declined",
      "The card was declined. Nothing was charged and your cart is unchanged.",
    );
  }
  return { last4: number.slice(-4) };
}
