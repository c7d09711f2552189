/**
 * `pnpm start` (src/main.ts), as a user runs it: in a process of its own, on a new ferry home, it brings the stack
 * up, loads the demo data, applies the tables, serves the store in phase 1 with every page reading its data and the
 * operators' console beside it (no account yet: it says how to make one), and Ctrl-C stops both and the stack it
 * started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "ferry-start-"));
let child: ChildProcess | undefined;
let output = "";

afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(home, { recursive: true, force: true });
});

/** Resolves with the first match of `pattern` in the output, or fails after `ms`. */
function waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const match = output.match(pattern);
      if (match) {
        clearInterval(timer);
        resolve(match);
      } else if (Date.now() - started > ms || child?.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`never saw ${pattern} in:\n${output}`));
      }
    }, 100);
  });
}

describe("pnpm start", () => {
  it("serves the seeded store and the console from a new home, every page reading its data; Ctrl-C stops what it started", async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FERRY_HOME: home,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    for (const name of ["MYSQL_URL", "DYNAMODB_ENDPOINT", "FERRY_TABLE_PREFIX"]) delete env[name];
    child = spawn(process.execPath, ["--import", "tsx", MAIN, "--port", "0"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    // Ceilings, not goals: a new stack's MariaDB and DynamoDB Local may each take up to 300 s to answer on CI's loaded
    // 2 cores (DynamoDB Local once took 93 s there), then the seed and the tables.
    const [, url] = await waitFor(/store {5}(http:\/\/127\.0\.0\.1:\d+) {2}\(phase 1;/, 720_000);
    expect(output).toMatch(/demo data loaded/);
    const [, adminUrl] = await waitFor(
      /admin {5}(http:\/\/127\.0\.0\.1:\d+) {2}\(no operator yet: make the first one with `pnpm ferry admin create-operator <name>`\)/,
      120_000,
    );
    // Health is polled: a store's /healthz gives each store 2 s to answer, which CI's loaded cores can exceed.
    await expect.poll(async () => (await fetch(`${adminUrl}/healthz`)).json()).toMatchObject({ ok: true, phase: 1 });
    const login = await fetch(`${adminUrl}/`, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/login?next=%2F");
    expect(await (await fetch(`${adminUrl}/login`)).text()).toContain("pnpm ferry admin create-operator");

    await expect
      .poll(async () => {
        const health = await fetch(`${url}/healthz`);
        return { status: health.status, ...((await health.json()) as object) };
      })
      .toMatchObject({ status: 200, ok: true, phase: 1, mysql: { ok: true }, dynamodb: { ok: true } });
    const tree = (await (await fetch(`${url}/api/categories`)).json()) as { categories: Array<{ id: string }> };
    expect(tree.categories.length).toBeGreaterThan(0);
    const listing = await fetch(`${url}/api/categories/${tree.categories[0]?.id}/products?sort=price-asc`);
    expect(listing.status).toBe(200);
    const { items } = (await listing.json()) as { items: Array<{ id: string; name: string }> };
    expect(items.length).toBeGreaterThan(0);
    const product = await fetch(`${url}/products/${items[0]?.id}`);
    expect(product.status).toBe(200);
    expect(await product.text()).toContain(items[0]?.name.replaceAll("'", "&#39;") ?? "");
    const word = items[0]?.name.split(/[^\p{L}\p{N}]+/u).find((w) => w.length > 2) ?? "";
    const search = await fetch(`${url}/api/search?q=${encodeURIComponent(word)}`);
    expect(search.status).toBe(200);
    expect(((await search.json()) as { items: Array<{ id: string }> }).items.map((p) => p.id)).toContain(items[0]?.id);
    // Nothing failed, but for a phase read or heartbeat that DynamoDB Local took over the control calls' 5 s to answer
    // (on CI's loaded cores): the process keeps its phase and tries again at its next refresh.
    const slowControlCall =
      /ferry: (reading the phase failed; keeping the last one|writing the heartbeat failed)[^\n]*requestTimeout/g;
    expect(output.replace(slowControlCall, "")).not.toMatch(/failed|No database selected/);

    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopping \.\.\./);
    expect(output).toMatch(/mysql +stopped/);
    expect(output).toMatch(/dynamodb +stopped/);
  }, 900_000);
});
