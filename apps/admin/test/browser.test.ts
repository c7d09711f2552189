/**
 * The console in a real browser (Debian's Chromium driven by playwright-core), over the store's real MySQL and DynamoDB
 * Local: an operator logs in, moves 1 -> 2, starts a backfill from the page and watches it finish, validates, opens a
 * difference in the record inspector, repairs it, looks at the shadow reads' chart, the outbox and the accounts, and
 * moves on to 3; a viewer sees the same pages without the forms. At a desktop width and at a phone's (375 px, where
 * nothing may overflow sideways). Screenshots are kept in test/artifacts/.
 */
import { existsSync, mkdirSync } from "node:fs";
import {
  addShadowMinute,
  applyTables,
  createCodec,
  DynamoEntityStore,
  MysqlEntityStore,
  OperatorStore,
  PhaseStore,
} from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAdmin, startAdminServer } from "../src/index.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const stack = useTestStack();
let browser: Browser;
const consoles: RunningAdmin[] = [];

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
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

// A long walk through the console: its polls wait up to a minute each on a loaded 2-core CI machine.
describe("an operator in Chromium", { timeout: 600_000 }, () => {
  for (const size of SIZES) {
    it(`logs in, moves 1 -> 2, backfills, validates, inspects a difference, repairs it, moves to 3; a viewer cannot act (${size.name})`, async () => {
      const tablePrefix = `${stack.tablePrefix}browser_${size.name}_`;
      const operators = new OperatorStore(stack.dynamodb(), { tablePrefix });
      await operators.create({ name: "ada", password: "correct horse battery", role: "operator", by: "test" });
      await operators.create({ name: "val", password: "viewer's long password", role: "viewer", by: "ada" });
      await applyTables(stack.dynamodb(), contract, { prefix: tablePrefix });
      const running = await startAdminServer({
        dynamodbEndpoint: stack.dynamodbEndpoint,
        tablePrefix,
        mysqlUrl: stack.mysqlUrl,
        contract,
      });
      consoles.push(running);
      const context = await browser.newContext({ viewport: size.viewport, isMobile: size.isMobile });
      // Playwright's own 30 s for a click, a navigation or a wait: a ceiling CI's loaded cores could reach.
      context.setDefaultTimeout(120_000);
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

        // A backfill started from the page: the console's own worker; the page follows it to its end.
        await page.getByRole("link", { name: "Backfill", exact: true }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Backfill");
        await fitsWidth(page);
        // Slowly enough (100 items/s) to watch it live: the counts move and the items/s chart is drawn.
        await page.getByLabel("At most this many items per second (optional)").fill("100");
        await page.getByRole("button", { name: "Start a backfill" }).click();
        await expect
          .poll(() => page.locator(".notice.ok").textContent())
          .toBe("The backfill started: this console's worker is on it.");
        await expect.poll(() => page.locator("[data-chart] .uplot canvas").count()).toBe(1);
        await fitsWidth(page);
        await shot(page, `${size.name}-5-backfill-live.png`);
        const lastRun = page.locator("section[aria-label='runs'] tbody tr").first();
        // The ledger says the run finished a moment before the console's worker has wrapped up: both are waited for.
        await expect
          .poll(
            async () => {
              await page.reload();
              return [(await lastRun.textContent()) ?? "", (await page.locator("[data-worker]").textContent()) ?? ""];
            },
            { interval: 500 },
          )
          .toEqual([
            expect.stringMatching(/ada\s*finished/),
            expect.stringMatching(/done .* finished: this worker wrote \d+ rows/),
          ]);
        await fitsWidth(page);
        await shot(page, `${size.name}-5-backfill-done.png`);

        // A user lost on DynamoDB behind the app's back: a validation finds it, the inspector shows it, a repair mends it.
        const codec = createCodec(contract);
        const mysql = new MysqlEntityStore(await stack.mysql(), codec);
        const [lost] = (await mysql.list("User", { limit: 1 })).items;
        if (!lost) throw new Error("the demo store has no users");
        await new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix }).delete("User", { id: lost.id });
        await page.getByRole("link", { name: "Validation", exact: true }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Validation reports");
        await page.getByLabel("User", { exact: true }).check();
        await page.getByRole("button", { name: "Run a validation" }).click();
        await expect.poll(() => page.locator("[data-check]").getAttribute("data-check")).toBe("done");
        expect(await page.locator("[data-check]").textContent()).toContain(
          "1 difference (1 missing, 0 extra, 0 mismatched)",
        );
        await fitsWidth(page);
        await shot(page, `${size.name}-6-validation.png`);
        await page.getByRole("link", { name: "open the report" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toMatch(/^Validation of /);
        await page.locator("section[aria-label='differences']").getByRole("link", { name: "inspect" }).first().click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Record inspector");
        const inspected = (await page.locator("main").textContent()) ?? "";
        expect(inspected).toContain("Side by side");
        expect(inspected).toContain(String(lost.username));
        await fitsWidth(page);
        await shot(page, `${size.name}-7-inspector.png`);
        await page.goBack();
        await page.getByRole("button", { name: "Repair User and validate again" }).click();
        await expect.poll(() => page.locator("[data-check]").getAttribute("data-check")).toBe("done");
        expect(await page.locator("[data-check]").textContent()).toMatch(
          /repair .* 1 repaired, 0 failed; after: clean/s,
        );

        // Shadow reads by the minute (as the store's shadow readers count them): the chart is drawn.
        await addShadowMinute(stack.dynamodb(), tablePrefix, Date.now() - 60_000, { comparisons: 900, mismatches: 0 });
        await addShadowMinute(stack.dynamodb(), tablePrefix, Date.now(), { comparisons: 1200, mismatches: 1 });
        await page.getByRole("link", { name: "Shadow reads" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Shadow reads");
        await expect.poll(() => page.locator("[data-shadow-chart] .uplot canvas").count()).toBe(1);
        await fitsWidth(page);
        await shot(page, `${size.name}-8-shadow.png`);
        await page.getByRole("link", { name: "Outbox" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Outbox");
        expect(await page.locator("main").textContent()).toContain("Phase 2: replays go to DynamoDB");
        await page.getByRole("button", { name: "Drain now" }).click();
        await expect.poll(() => page.locator("[data-drain]").getAttribute("data-drain")).toBe("done");
        await fitsWidth(page);
        await shot(page, `${size.name}-9-outbox.png`);
        await page.getByRole("link", { name: "Accounts" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Operator accounts");
        await fitsWidth(page);
        await shot(page, `${size.name}-10-accounts.png`);

        // And on: 2 -> 3, the backfill having finished.
        await page.getByRole("link", { name: "Phase", exact: true }).click();
        await page.getByRole("button", { name: "Move to phase 3" }).click();
        await expect.poll(() => page.locator(".notice.ok").textContent()).toBe("Moved to phase 3.");
        await shot(page, `${size.name}-11-phase-3.png`);

        await page.getByRole("button", { name: "Log out" }).click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Operators' log-in");
        await logIn(page, running.url, "val", "viewer's long password");
        expect(await page.getByRole("button", { name: /Move to phase/ }).count()).toBe(0);
        expect(await page.locator("main").textContent()).toContain("Your account is a viewer");
        await page.getByRole("link", { name: "Backfill", exact: true }).click();
        expect(await page.getByRole("button", { name: "Start a backfill" }).count()).toBe(0);
        await shot(page, `${size.name}-12-viewer.png`);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
