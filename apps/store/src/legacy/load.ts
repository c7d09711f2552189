/**
 * Runs a load over a few connections, so making rows overlaps with the server writing them.
 * With LOAD DATA each table goes in one streamed statement (the biggest tables first, one per
 * connection); with INSERT the chunks of all tables are shared out one by one. Progress is
 * counted per table, reported at most every `progressEveryMs` per table and once when a table is done.
 */
import { type BulkMethod, BulkWriter } from "./bulk-insert.ts";
import { COLUMNS, type RowCells, type StoreTable } from "./tables.ts";

export interface LoadChunk {
  table: StoreTable;
  /** Rows this chunk makes (known before it is made). */
  rows: number;
  make(): RowCells[];
}

export interface LoadProgress {
  table: string;
  done: number;
  total: number;
}

export interface LoadOptions {
  /** URL with the database to load into. */
  url: string;
  /** Connections writing in parallel (default 3). */
  connections?: number | undefined;
  /** Force a method instead of asking the server (tests use this to cover the INSERT path). */
  method?: BulkMethod | undefined;
  onProgress?: ((p: LoadProgress) => void) | undefined;
  progressEveryMs?: number;
}

/** Loads every chunk; `totals` gives each table's row count for progress. Returns the method used. */
export async function runLoad(
  chunks: readonly LoadChunk[],
  totals: Readonly<Partial<Record<StoreTable, number>>>,
  options: LoadOptions,
): Promise<BulkMethod> {
  const progress = new ProgressCounter(totals, options.onProgress, options.progressEveryMs ?? 250);
  const first = await BulkWriter.open(options.url, options.method);
  const writers = [first];
  try {
    const wholeTables = first.currentMethod === "load-data";
    const units = wholeTables ? byTable(chunks) : chunks.map((chunk) => [chunk]);
    const count = Math.max(1, Math.min(options.connections ?? 3, units.length));
    for (let i = 1; i < count; i++) writers.push(await BulkWriter.open(options.url, first.currentMethod));

    let next = 0;
    let failed = false;
    const work = async (writer: BulkWriter) => {
      while (!failed && next < units.length) {
        const unit = units[next++];
        const table = unit?.[0]?.table;
        if (!unit || !table) continue;
        await writer.writeTable(table, COLUMNS[table], unit, (rows) => progress.add(table, rows));
      }
    };
    const results = await Promise.allSettled(
      writers.map((writer) =>
        work(writer).catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
    progress.finish();
    return writers.some((w) => w.currentMethod === "insert") ? "insert" : first.currentMethod;
  } finally {
    await Promise.all(writers.map((w) => w.close()));
  }
}

/** The chunks grouped by table, biggest table first (so the longest load starts first). */
function byTable(chunks: readonly LoadChunk[]): LoadChunk[][] {
  const groups = new Map<StoreTable, LoadChunk[]>();
  for (const chunk of chunks) {
    const group = groups.get(chunk.table) ?? [];
    group.push(chunk);
    groups.set(chunk.table, group);
  }
  const size = (group: LoadChunk[]) => group.reduce((sum, chunk) => sum + chunk.rows, 0);
  return [...groups.values()].sort((a, b) => size(b) - size(a));
}

class ProgressCounter {
  private readonly done = new Map<string, number>();
  private readonly lastReport = new Map<string, number>();

  constructor(
    private readonly totals: Readonly<Partial<Record<StoreTable, number>>>,
    private readonly report: ((p: LoadProgress) => void) | undefined,
    private readonly everyMs: number,
  ) {
    for (const [table, total] of Object.entries(totals)) {
      this.done.set(table, 0);
      report?.({ table, done: 0, total: total ?? 0 });
    }
  }

  add(table: StoreTable, rows: number): void {
    const done = (this.done.get(table) ?? 0) + rows;
    this.done.set(table, done);
    if (!this.report) return;
    const total = this.totals[table] ?? done;
    const now = Date.now();
    if (done >= total || now - (this.lastReport.get(table) ?? 0) >= this.everyMs) {
      this.lastReport.set(table, now);
      this.report({ table, done, total });
    }
  }

  /** Tables with nothing to load still end with a report. */
  finish(): void {
    for (const [table, total] of Object.entries(this.totals)) {
      if ((total ?? 0) === 0) this.report?.({ table, done: 0, total: 0 });
    }
  }
}
