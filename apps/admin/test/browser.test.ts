/**
 * The console in a real browser (Debian's Chromium driven by playwright-core): an operator logs in, reads the phase
 * page and moves 1 -> 2 with the button; a viewer sees the same page without the forms; at a desktop width and at a
 * phone's (375 px, where nothing may overflow sideways). Screenshots are kept in test/artifacts/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { BackfillLedger, OperatorStore, PhaseStore } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAdmin, startAdminServer } from "../src/index.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const stack = useTestStack();
let browser: Browser;
const consoles: RunningAdmin[] = [];

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
  for (const running of consoles) await running.close();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
}

/**
 * Nothing wider than the window: the page's width is compared with the width asked for (on a phone, a page that
 * overflows widens the layout viewport, and innerWidth with it).
 */
async function fitsWidth(page: Page): Promise<void> {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scroll).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

async function logIn(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await expect.poll(() => page.locator("h1").textContent()).toBe("Operators' log-in");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect.poll(() => page.locator("h1").textContent()).toBe("Migration phase");
}

const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 800 }, isMobile: false },
  { name: "phone", viewport: { width: 375, height: 740 }, isMobile: true },
] as const;

describe("an operator in Chromium", () => {
  for (const size of SIZES) {
    it(`logs in, reads the phase page and moves 1 -> 2; a viewer cannot (${size.name})`, async () => {
      const tablePrefix = `${stack.tablePrefix}browser_${size.name}_`;
      const operators = new OperatorStore(stack.dynamodb(), { tablePrefix });
      await operators.create({ name: "ada", password: "correct horse battery", role: "operator", by: "test" });
      await operators.create({ name: "val", password: "viewer's long password", role: "viewer", by: "ada" });
      const running = await startAdminServer({ dynamodbEndpoint: stack.dynamodbEndpoint, tablePrefix });
      consoles.push(running);
      const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      try {
        // A wrong password first: the message, and the name kept.
        await page.goto(`${running.url}/login`);
        await page.getByLabel("Name").fill("ada");
        await page.getByLabel("Password").fill("not the password");
        await page.getByRole("button", { name: "Log in" }).click();
        await expect.poll(() => page.locator(".notice.bad").textContent()).toBe("Wrong name or password.");
        expect(await page.getByLabel("Name").inputValue()).toBe("ada");
        await fitsWidth(page);
        await shot(page, `${size.name}-1-login.png`);
        // The refused log-in answered 401, which the browser reports; nothing after it may fail.
        expect(errors).toEqual(["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]);
        errors.length = 0;

        await logIn(page, running.url, "ada", "correct horse battery");
        expect(await page.getByTestId("phase").textContent()).toBe("1");
        await expect
          .poll(() => page.locator("section[aria-label='move to phase 2'] .checks").textContent())
          .toMatch(/fleet/);
        await fitsWidth(page);
        await shot(page, `${size.name}-2-phase-1.png`);

        await page.getByLabel("Reason (optional)").fill("start dual writes");
        await page.getByRole("button", { name: "Move to phase 2" }).click();
        await expect.poll(() => page.locator(".notice.ok").textContent()).toBe("Moved to phase 2.");
        expect(await page.getByTestId("phase").textContent()).toBe("2");
        expect(await page.locator("section[aria-label='current phase']").textContent()).toContain("WRITE_DDB on");
        await fitsWidth(page);
        await shot(page, `${size.name}-3-phase-2.png`);
        const phases = new PhaseStore(stack.dynamodb(), { tablePrefix });
        expect((await phases.history()).entries[0]).toMatchObject({
          from: 1,
          to: 2,
          who: "ada",
          reason: "start dual writes",
        });

        // The move is in the audit log, with who, the reason, and the flags before and after.
        await page.getByRole("link", { name: "Audit log" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Audit log");
        const firstRow = page.locator("section[aria-label='entries'] tbody tr").first();
        expect(await firstRow.textContent()).toMatch(/ada\s*phase\s*phase 1 -> 2\s*reason: start dual writes/);
        await page.getByLabel("Kind").selectOption("login");
        await page.getByRole("button", { name: "Filter" }).click();
        await expect.poll(() => page.locator("section[aria-label='entries'] tbody tr").count()).toBe(1);
        await fitsWidth(page);
        await shot(page, `${size.name}-4-audit.png`);

        // A backfill started elsewhere (a ledger of its own, as the CLI's): the page follows it live.
        const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix });
        const { id } = await ledger.createRun({
          contract: "store.yaml",
          who: "ops@host",
          entities: ["User"],
          segments: [{ entity: "User", index: 0, estimatedRows: 100 }],
        });
        const claimed = await ledger.claim(id, "worker-1", { leaseMs: 60_000 });
        if (claimed.kind !== "claimed") throw new Error("no segment to claim");
        await page.getByRole("link", { name: "Backfill" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Backfill");
        const written = page.locator("tr[data-entity='User'] [data-field=written]");
        expect(await written.textContent()).toBe("0");
        await ledger.checkpoint(claimed.claim, { after: { id: 40 }, written: 40 });
        await ledger.flush(claimed.claim);
        await expect.poll(() => written.textContent(), { timeout: 10_000 }).toBe("40");
        expect(await page.locator("tr[data-entity='User'] progress").getAttribute("value")).toBe("40");
        // The items/s chart (uPlot, served from the package) is drawn.
        await expect.poll(() => page.locator("[data-chart] .uplot canvas").count(), { timeout: 10_000 }).toBe(1);
        await fitsWidth(page);
        await shot(page, `${size.name}-5-backfill.png`);
        await ledger.complete(claimed.claim, { after: { id: 100 }, written: 60 });
        await ledger.finish(id);
        await expect.poll(() => page.locator("[data-field=state]").textContent(), { timeout: 10_000 }).toBe("finished");
        expect(await written.textContent()).toBe("100");

        await page.getByRole("button", { name: "Log out" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Operators' log-in");
        await logIn(page, running.url, "val", "viewer's long password");
        expect(await page.getByRole("button", { name: /Move to phase/ }).count()).toBe(0);
        expect(await page.locator("main").textContent()).toContain("Your account is a viewer");
        await shot(page, `${size.name}-6-viewer.png`);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
