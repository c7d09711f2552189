/**
 * An operator stops a backfill run from another process (BackfillLedger.stop): its worker gives its segment back after
 * the page under way, the run stays open with its checkpoints, no worker joins it until it is resumed, and resumed it
 * finishes with every row.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import {
  BackfillLedger,
  BackfillRefused,
  BackfillRunClosed,
  BackfillStoppedAgain,
  runBackfill,
} from "../src/backfill/index.ts";
import { AuditTrail } from "../src/control/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";
import { BACKFILL_KEYS_DDL } from "./backfill-keys-fixture.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: fileURLToPath(new URL("./fixtures/backfill-keys.yaml", import.meta.url)),
  prepare: async () => {
    const db = await stack.mysql();
    await db.query(readFileSync(BACKFILL_KEYS_DDL, "utf8"));
    const ids = Array.from({ length: 120 }, (_, i) => [String(i + 1), 1]);
    await db.query({ sql: "INSERT INTO readings (id, value) VALUES ?", values: [ids] });
  },
});

describe("stopping a backfill run", () => {
  it("stops its worker mid-segment, keeps it open and refused to joiners, and resumed it finishes", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const services = {
      codec: testbed.codec(),
      mysql: testbed.connection(),
      client: stack.dynamodb(),
      tablePrefix: stack.tablePrefix,
    };
    // Another process's view of the ledger: the console's.
    const console = new BackfillLedger(stack.dynamodb(), { tablePrefix: stack.tablePrefix });
    const options = { contract: "backfill-keys", who: "worker", entities: ["Reading"], pageRows: 6, leaseMs: 1200 };
    let pages = 0;
    const first = await runBackfill(services, {
      ...options,
      hooks: {
        // The first page waits while the run is stopped and the lease keeper (every 400 ms here) has looked twice.
        beforeWrite: async () => {
          pages++;
          if (pages !== 1) return;
          const open = await console.current();
          if (open === undefined) throw new Error("no open run");
          await console.stop(open.id, "ada");
          await new Promise((resolve) => setTimeout(resolve, 1000));
        },
      },
    });
    expect(first.stopped?.who).toBe("ada");
    expect(first.report.state).toBe("running");
    expect(first.report.stopped?.who).toBe("ada");
    // One segment of 120 rows in pages of 6: it stopped after the pages in flight, not at the segment's end.
    expect(first.report.segments).toBe(1);
    expect(first.report.segmentsDone).toBe(0);
    expect(first.report.segmentsLeased).toBe(0);
    expect(first.written).toBeGreaterThan(0);
    expect(first.written).toBeLessThan(120);
    expect(pages).toBeLessThan(20);

    // Stopping again keeps who stopped it first.
    expect((await console.stop(first.runId, "bob")).stopped?.who).toBe("ada");
    // A resume undoes the stop it saw, never a later one: resumed, stopped again by carol, then a stale resume.
    const seen = (await console.run(first.runId)).stopped;
    // Two resumes of the same stop at once (two consoles, two workers with --resume): one resumes, the other finds it
    // running, and only the first is recorded.
    await Promise.all([console.resume(first.runId, "bob", seen), console.resume(first.runId, "bob", seen)]);
    expect((await console.run(first.runId)).stopped).toBeUndefined();
    // Two stops at once: one sets the mark (and is recorded), the other finds it set.
    await Promise.all([console.stop(first.runId, "carol"), console.stop(first.runId, "carol")]);
    await expect(console.resume(first.runId, "dave", seen)).rejects.toThrow(BackfillStoppedAgain);
    await expect(console.resume(first.runId, "dave", seen)).rejects.toThrow(/was stopped again by carol at /);
    expect((await console.run(first.runId)).stopped?.who).toBe("carol");
    // A worker started without --resume is refused and writes nothing.
    await expect(runBackfill(services, options)).rejects.toThrow(BackfillRefused);
    await expect(runBackfill(services, options)).rejects.toThrow(/was stopped by carol/);
    expect((await console.progress(first.runId)).written).toBe(first.written);

    const resumed = await runBackfill(services, { ...options, resume: true });
    expect(resumed.runId).toBe(first.runId);
    expect(resumed.joined).toBe(true);
    expect(resumed.stopped).toBeUndefined();
    expect(resumed.report.state).toBe("finished");
    expect(resumed.report.stopped).toBeUndefined();
    expect(resumed.report.written).toBe(120);
    // Minute by minute (the console's chart of the whole run), both workers' rows, each once.
    const minutes = await console.minutes(first.runId);
    expect(minutes.length).toBeGreaterThan(0);
    expect(minutes.every((minute) => /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(minute.minute))).toBe(true);
    expect(minutes.reduce((sum, minute) => sum + minute.written + minute.skipped, 0)).toBe(
      resumed.report.written + resumed.report.skipped,
    );
    expect(await differencesOf(stack, testbed, "Reading")).toEqual([]);

    // Each step is in the audit trail, whoever took it (here no console: the ledger records it).
    const trail = await new AuditTrail(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).page({ kind: "backfill" });
    expect(trail.entries.map((entry) => [entry.who, entry.what]).reverse()).toEqual([
      ["worker", `backfill run ${first.runId} started (Reading)`],
      ["ada", `backfill run ${first.runId} stopped (its workers give their segments back after the page under way)`],
      ["bob", `backfill run ${first.runId} resumed`],
      ["carol", `backfill run ${first.runId} stopped (its workers give their segments back after the page under way)`],
      ["worker", `backfill run ${first.runId} resumed`],
      ["worker", `backfill run ${first.runId} finished: 120 rows written, 0 skipped, 0 rejected`],
    ]);

    // A run that has ended can be neither stopped nor resumed.
    await expect(console.stop(first.runId, "ada")).rejects.toThrow(BackfillRunClosed);
    await expect(console.resume(first.runId, "ada")).rejects.toThrow(/has finished/);
  });
});
