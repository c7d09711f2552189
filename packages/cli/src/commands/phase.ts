/**
 * `ferry phase get | set N | history | fleet`: the migration phase in the control table (docs/architecture.md,
 * "Phases"), changed under the PhaseStore's guard rails; refusals and lost races exit 1 with the reason.
 */
import { hostname, userInfo } from "node:os";
import type { FleetView, MoveProgress, MysqlExecutor, PhaseAuditEntry, PhaseState, PhaseStore } from "@ferry/runtime";
import { PHASES, type PhaseFlags } from "@ferry/runtime";
import { connectMysql, parseMysqlUrl, resolveConnections, StackError, withDatabase } from "@ferry/stack";
import { Command } from "commander";
import { type ControlTableOptions, controlTableConnection, withControlTableOptions } from "../control-table.ts";
import { wholeNumber } from "../options.ts";
import { note, say, table } from "../output.ts";

type ConnectionOptions = ControlTableOptions;

interface SetOptions extends ConnectionOptions {
  mysqlUrl?: string;
  database?: string;
  force?: boolean;
  reason?: string;
  confirm?: boolean;
  who?: string;
  expectedVersion?: number;
  waitMs?: number;
  staleAfter?: number;
}

export function phaseCommand(): Command {
  const phase = new Command("phase").description(
    "the migration phase (1-5) every instance runs: show it, move it one step under the guard rails, its audit log, the fleet",
  );

  withControlTableOptions(phase.command("get"))
    .description("show the phase, its flags, version and shadow settings, and who changed it last")
    .option("--json", "print it as JSON")
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const state = await withStore(options, "read the phase", (store) => store.get());
      if (options.json) {
        say(JSON.stringify({ ...state, name: PHASES[state.phase].name }, null, 2));
        return;
      }
      say(describePhase(state));
    });

  withControlTableOptions(phase.command("set"))
    .description("move to phase N: one step at a time, forward only when its precondition holds, 4 -> 5 with --confirm")
    .argument("<N>", "the phase to move to, 1 to 5", wholeNumber(1, 5))
    .option("--force", "skip the step rule and the preconditions (needs --reason; audited as forced)")
    .option("--reason <text>", "why, for the audit log")
    .option("--confirm", "confirm 4 -> 5, the point of no return (MySQL stops being written)")
    .option("--who <name>", "who makes the change, for the audit log (default: $USER@hostname)")
    .option("--expected-version <n>", "fail unless the phase is still at this version (compare-and-set)", wholeNumber())
    .option(
      "--wait-ms <ms>",
      "how long a move of the authoritative store waits for the fleet before it is cancelled (default 30000)",
      wholeNumber(1),
    )
    .option(
      "--stale-after <ms>",
      "a process not heard from for longer is taken to be gone (default 3000)",
      wholeNumber(1),
    )
    .option(
      "--mysql-url <url>",
      "the app's MySQL, whose outbox is checked before 3 <-> 4 (default: MYSQL_URL, else the local stack's)",
    )
    .option("--database <db>", "the app's database there (default: the URL's, else `store`)")
    .addHelpText(
      "after",
      `
Guard rails: moves go one step at a time (1 <-> 2 <-> 3 <-> 4 -> 5); nothing leaves 5.
  2 -> 3  needs a finished backfill, as recorded in the control table
  3 -> 4  needs a clean last validation, as recorded in the control table, and a shadow mismatch rate
          below the threshold over at least the minimum number of comparisons (see ferry phase get)
          (ferry backfill run and ferry validate record them; --force --reason skips them, audited)
  4 -> 5  needs --confirm, even with --force
Either way: every running process on the current version (ferry phase fleet), and, when the move makes
the other store authoritative (3 <-> 4), no failed writes for it waiting in the outbox.
A move that changes the authoritative store (3 <-> 4), and 4 -> 5, is announced first: every process holds
new writes and finishes those in flight under the old phase; once all have, the preconditions are checked
again and the move is committed. It prints what it waits for, and is cancelled (exit 1, the phase stays)
when the fleet is not ready within --wait-ms.
--force skips the step rule and the preconditions, needs --reason, and is marked forced in the audit log.

Exit codes:
  0  the phase was changed
  1  refused (the reason is printed), someone else changed it first, or DynamoDB could not be reached

Examples:
  pnpm ferry phase set 2 --reason "start dual writes"
  pnpm ferry phase set 3 --force --reason "backfilled by hand, ticket 42"
  pnpm ferry phase set 5 --confirm`,
    )
    .action(async (to: number, options: SetOptions) => {
      const who = options.who ?? defaultWho();
      const outbox = mysqlOnDemand(options);
      let told = "";
      let announcedTold = false;
      let silentTold = false;
      const onProgress = (progress: MoveProgress) => {
        const now =
          progress.waitingFor.length === 0
            ? `every live process (${progress.live}) is ready; checking the preconditions again and committing`
            : `waiting for: ${progress.waitingFor.join("; ")}`;
        if (!progress.announced && !silentTold) {
          silentTold = true;
          note(
            `phase ${progress.from} -> ${progress.to} changes the authoritative store: not announced yet, while a silent process may still write (the fleet writes on meanwhile), until ${progress.deadline} at the latest`,
          );
        }
        if (progress.announced && !announcedTold) {
          announcedTold = true;
          note(
            `phase ${progress.from} -> ${progress.to} changes the authoritative store: announced (version ${progress.version}); every process holds new writes and finishes those under phase ${progress.from}, until ${progress.deadline} at the latest`,
          );
        }
        if (now !== told) note(now);
        told = now;
      };
      const { before, after } = await withStore(
        {
          ...options,
          mysql: outbox.mysql,
          ...(options.staleAfter === undefined ? {} : { staleAfterMs: options.staleAfter }),
        },
        "change the phase",
        async (store) => {
          const before = await store.get();
          const after = await store.set(to, {
            who,
            ...(options.reason === undefined ? {} : { reason: options.reason }),
            force: options.force ?? false,
            confirm: options.confirm ?? false,
            expectedVersion: options.expectedVersion ?? before.version,
            ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
            onProgress,
          });
          return { before, after };
        },
      ).finally(() => outbox.close());
      say(
        `phase ${before.phase} -> ${after.phase} (${PHASES[after.phase].name}), version ${after.version}${options.force ? ", forced" : ""}`,
      );
      note(
        told === ""
          ? "running instances pick it up at their next refresh; `ferry phase fleet` shows when all have"
          : `the writes every process held now run under phase ${after.phase}; \`ferry phase fleet\` shows the fleet`,
      );
    });

  withControlTableOptions(phase.command("history"))
    .description("the audit log of phase and settings changes, newest first")
    .option("--limit <n>", "how many entries (default 20)", wholeNumber(1, 1000))
    .option("--cursor <cursor>", "continue a listing (printed after a page that has more)")
    .option("--json", "print the page as JSON: { entries, cursor? }")
    .action(async (options: ConnectionOptions & { limit?: number; cursor?: string; json?: boolean }) => {
      const page = await withStore(options, "read the phase history", (store) =>
        store.history({
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        }),
      );
      if (options.json) {
        say(JSON.stringify(page, null, 2));
        return;
      }
      if (page.entries.length === 0) say("no changes yet: the phase has always been 1");
      const width = Math.max(...page.entries.map((entry) => String(entry.version).length));
      for (const entry of page.entries) say(describeEntry(entry, width));
      if (page.cursor !== undefined) note(`more: ferry phase history --cursor ${page.cursor}`);
    });

  withControlTableOptions(phase.command("fleet"))
    .description("the live instances, the phase version each has seen, and whether all run the current one")
    .option("--stale-after <ms>", "leave out instances not heard from for longer (default 3000)", wholeNumber(1))
    .option("--json", "print it as JSON")
    .action(async (options: ConnectionOptions & { staleAfter?: number; json?: boolean }) => {
      const view = await withStore(options, "read the fleet", (store) =>
        store.fleet(options.staleAfter === undefined ? {} : { staleAfterMs: options.staleAfter }),
      );
      if (options.json) {
        say(JSON.stringify(view, null, 2));
        return;
      }
      say(describeFleet(view));
    });

  return phase;
}

/**
 * Runs `work` on a PhaseStore over the connection the options and environment name. The phase store's own errors
 * (refusals, conflicts) pass through with their message and hint; DynamoDB failures say where and what was tried.
 */
async function withStore<T>(
  options: ConnectionOptions & {
    /** The app's MySQL, for the outbox of writes for DynamoDB; without it the outbox is not checked. */
    mysql?: () => Promise<MysqlExecutor>;
    staleAfterMs?: number;
  },
  doing: string,
  work: (store: PhaseStore) => Promise<T>,
): Promise<T> {
  const { dynamoDbLocation, dynamoDbProblem, outboxPendingWrites, PhaseStore } = await import("@ferry/runtime");
  const { client, tablePrefix } = controlTableConnection(options);
  try {
    const mysql = options.mysql;
    return await work(
      new PhaseStore(client, {
        tablePrefix,
        ...(options.staleAfterMs === undefined ? {} : { staleAfterMs: options.staleAfterMs }),
        ...(mysql ? { pendingWrites: outboxPendingWrites({ client, tablePrefix, mysql }) } : {}),
      }),
    );
  } catch (error) {
    // The phase store's own errors (refusals, conflicts) and the stack's (a MySQL that cannot be reached for the
    // outbox) are told for a person already; anything else is a DynamoDB request that failed.
    if (error instanceof StackError) throw error;
    throw dynamoDbProblem(error, await dynamoDbLocation(client), doing);
  } finally {
    client.destroy();
  }
}

/**
 * The app's MySQL database, connected only when asked (a move that does not switch the authoritative store never needs
 * it), for the outbox of failed writes for DynamoDB.
 */
function mysqlOnDemand(options: SetOptions): { mysql: () => Promise<MysqlExecutor>; close: () => Promise<void> } {
  let connection: Promise<Awaited<ReturnType<typeof connectMysql>>> | undefined;
  return {
    mysql() {
      const { mysqlUrl } = resolveConnections({ mysqlUrl: options.mysqlUrl });
      const database = options.database ?? parseMysqlUrl(mysqlUrl).database ?? "store";
      connection ??= connectMysql(withDatabase(mysqlUrl, database), { connectTimeoutMs: 5_000 });
      return connection;
    },
    async close() {
      await (await connection?.catch(() => undefined))?.end().catch(() => undefined);
    },
  };
}

/** $USER@hostname, for the audit log. */
function defaultWho(): string {
  let user = process.env.USER || process.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return `${user}@${hostname()}`;
}

function describePhase(state: PhaseState): string {
  const definition = PHASES[state.phase];
  const rows: Array<[string, string]> = [
    ["flags", describeFlags(state.flags)],
    ["authoritative", definition.authoritative === "mysql" ? "MySQL" : "DynamoDB"],
    ["version", String(state.version)],
    ["shadow reads", `${percent(state.shadowSampleRate)} of phase-3 reads are compared`],
    [
      "3 -> 4 needs",
      `a mismatch rate below ${percent(state.mismatchThreshold)} over at least ${state.minComparisons} comparisons`,
    ],
    [
      "last changed",
      state.updatedAt === undefined
        ? "never (phase 1 until someone sets it)"
        : `${state.updatedAt} by ${state.updatedBy ?? "?"}`,
    ],
  ];
  if (state.dualWriteSince !== undefined) {
    rows.push(["dual writes", `since version ${state.dualWriteSince} (backfills and validations of this run count)`]);
  }
  if (state.pending !== undefined) {
    rows.push([
      "moving",
      `to phase ${state.pending.to} (announced by ${state.pending.by}; writes are held until it is committed or cancelled, by ${state.pending.deadline} at the latest)`,
    ]);
  }
  return `phase ${state.phase}: ${definition.name}\n${table(rows)}`;
}

function describeFlags(flags: PhaseFlags): string {
  return Object.entries(flags)
    .map(([name, on]) => `${name} ${on ? "on" : "off"}`)
    .join(", ");
}

function describeEntry(entry: PhaseAuditEntry, width: number): string {
  const what =
    entry.change === "phase"
      ? `phase ${entry.from} -> ${entry.to}`
      : entry.change === "announce"
        ? `announced phase ${entry.from} -> ${entry.to}`
        : entry.change === "cancel"
          ? `cancelled phase ${entry.from} -> ${entry.to}`
          : `settings: shadow sampling ${percent(entry.settings.shadowSampleRate)}, mismatch threshold ${percent(entry.settings.mismatchThreshold)}, min comparisons ${entry.settings.minComparisons}`;
  const forced = entry.forced ? " (forced)" : "";
  const reason = entry.reason === undefined ? "" : `: ${entry.reason}`;
  return `v${String(entry.version).padStart(width)}  ${entry.at}  ${entry.who}  ${what}${forced}${reason}`;
}

function describeFleet(view: FleetView): string {
  const count = view.instances.length;
  const silent = view.silent.length === 0 ? "" : `, ${view.silent.length} silent (within their write lease)`;
  const head = `phase ${view.phase} (version ${view.version}): ${count} live ${count === 1 ? "instance" : "instances"}${silent}`;
  if (count === 0 && view.silent.length === 0) return head;
  const status = view.allCurrent ? "all run the current version" : "NOT all run the current version yet";
  const rows: Array<[string, string]> = view.instances.map((instance) => [
    instance.instanceId,
    `${instance.app}  ${instance.host}  version ${instance.versionSeen}${instance.current ? "" : " (behind)"}  last seen ${instance.lastSeen}`,
  ]);
  for (const instance of view.silent) {
    rows.push([
      instance.instanceId,
      `${instance.app}  ${instance.host}  version ${instance.versionSeen}${instance.current ? "" : " (behind)"}  SILENT since ${instance.lastSeen}, may write until ${instance.writesUntil}`,
    ]);
  }
  return `${head}, ${status}\n${table(rows)}`;
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}
