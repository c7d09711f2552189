/**
 * The store in a real browser (Debian's Chromium driven by playwright-core): register, browse a category, open a
 * product, add it to the cart, check out and see the order, once at a desktop width and once at a phone's (375 px,
 * where nothing may overflow sideways). Screenshots of each step are kept in test/artifacts/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVED_TEST_CARD } from "../src/index.ts";
import { newName, useStore } from "./support.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const store = useStore(1);
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (CI does) or set CHROMIUM_PATH`);
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

/** A locator's text, trimmed (waiting for it to exist). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: 60_000 })) ?? "").trim();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
}

/**
 * Nothing wider than the window (a phone must not scroll sideways): the page's width is compared with the width asked
 * for (on a phone, a page that overflows widens the layout viewport, and innerWidth with it).
 */
async function fitsWidth(page: Page): Promise<void> {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scroll).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 800 }, isMobile: false },
  { name: "phone", viewport: { width: 375, height: 740 }, isMobile: true },
] as const;

// Whole shopping walks in a real browser: slow on a loaded 2-core CI machine.
describe("a shopper in Chromium", { timeout: 600_000 }, () => {
  for (const size of SIZES) {
    it(`registers, browses, adds to the cart, checks out and sees the order (${size.name})`, async () => {
      const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile });
      // Playwright's own 30 s for a click, a navigation or a wait: a ceiling CI's loaded cores could reach.
      context.setDefaultTimeout(120_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      try {
        await page.goto(`${store.url()}/`);
        await expect.poll(() => text(page.locator("h1"))).toBe("Shop by category");
        await fitsWidth(page);
        await shot(page, `${size.name}-1-home.png`);

        const username = newName(size.name);
        await page.getByRole("link", { name: "Register" }).click();
        await page.getByLabel("Username").fill(username);
        await page.getByLabel("Email").fill(`${username}@example.com`);
        await page.getByLabel("First name").fill("Browser");
        // A short password is refused next to its field; what was typed stays.
        await page.getByLabel(/^Password/).fill("short");
        await page.getByRole("button", { name: "Create account" }).click();
        await expect
          .poll(() => text(page.locator(".field.has-error .error")))
          .toBe("Password needs at least 8 characters.");
        expect(await page.getByLabel("Username").inputValue()).toBe(username);
        await shot(page, `${size.name}-2-register-error.png`);
        await page.getByLabel(/^Password/).fill("correct horse");
        await page.getByRole("button", { name: "Create account" }).click();
        await expect.poll(() => text(page.locator(".notice.ok"))).toBe("Welcome! Your account is ready.");

        // A category with products, then its first product.
        await page.locator(".card a.name").first().click();
        await page.waitForURL(/\/categories\/\d+$/);
        await page.locator(".card").first().waitFor();
        await fitsWidth(page);
        await shot(page, `${size.name}-3-category.png`);
        // Sorted by price, lowest first, in stock only: the listing's filter form.
        await page.getByLabel("Sort by").selectOption("price-asc");
        await page.getByLabel("In stock only").check();
        await page.getByRole("button", { name: "Apply" }).click();
        await page.waitForURL(/sort=price-asc/);
        await page.locator(".card").first().waitFor();
        await fitsWidth(page);
        await shot(page, `${size.name}-3b-category-by-price.png`);
        const inStock = page.locator(".card", { hasText: "in stock" }).first();
        const name = (await inStock.locator("a.name").textContent())?.trim() ?? "";

        // Search by the words of its name, from the header's box, and open it from the results.
        await page.getByLabel("Search products").fill(name.toUpperCase());
        await page.getByRole("button", { name: "Search", exact: true }).click();
        await page.waitForURL(/\/search\?q=/);
        await expect.poll(() => text(page.locator("h1"))).toBe(`Results for “${name.toUpperCase()}”`);
        const hit = page.locator(".card a.name", { hasText: name }).first();
        await hit.waitFor();
        await fitsWidth(page);
        await shot(page, `${size.name}-3c-search.png`);
        await hit.click();
        await expect.poll(() => text(page.locator("h1"))).toBe(name);
        await fitsWidth(page);
        await shot(page, `${size.name}-4-product.png`);

        await page.getByRole("button", { name: "Add to cart" }).click();
        await expect.poll(() => text(page.locator(".notice.ok"))).toBe("Added to your cart.");
        await expect.poll(() => text(page.locator("table"))).toContain(name);
        await expect.poll(() => text(page.locator("header .badge"))).toBe("1");
        await fitsWidth(page);
        await shot(page, `${size.name}-5-cart.png`);

        await page.getByRole("link", { name: "Check out" }).click();
        await page.getByLabel("Card number").fill(APPROVED_TEST_CARD);
        await page.getByLabel("Expiry (MM/YY)").fill("12/39");
        await page.getByLabel("Security code").fill("123");
        await fitsWidth(page);
        await shot(page, `${size.name}-6-checkout.png`);
        await page.getByRole("button", { name: /^Pay / }).click();
        await expect.poll(() => text(page.locator(".notice.ok"))).toBe("Thank you! Your order is placed and paid.");
        await expect.poll(() => text(page.locator("table"))).toContain(name);
        await expect.poll(() => text(page.locator("header .badge"))).toBe("0");
        await fitsWidth(page);
        await shot(page, `${size.name}-7-order.png`);

        await page.getByRole("link", { name: "Orders", exact: true }).click();
        await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
