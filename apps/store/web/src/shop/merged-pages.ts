/**
 * One listing over several listings of the same order (a parent category's products and each child's): the sources
 * read in pages of a fixed size, merged, and one cursor that says where each source stands: the store's cursor of
 * the page its next item is on (absent: the first page) and the sort key of the last item shown from that page. A
 * page read again skips what sorts at or before that key, so an item added or removed meanwhile neither repeats an
 * item nor hides one. Positions are kept by source id (a category's), so a renamed or new child does not take
 * another's position: a listing whose sources changed starts again.
 */
import type { Page, PageRequest } from "@ferry/store-data";
import { ShopError } from "../http/errors.ts";

export interface Source<T> {
  /** Stable over requests (a category id). */
  id: string;
  list: (page: PageRequest) => Promise<Page<T>>;
}

/** Where one source stands. */
interface Position {
  /** The store's cursor of the page the next item is on (absent: the first page). */
  c?: string;
  /** The sort key of the last item shown from that page (absent: none yet). */
  a?: string;
  /** Nothing more in this source. */
  d?: 1;
}

interface Token {
  /** The page size the sources are read in. */
  p: number;
  /** The listing's order and filters, as the caller names them: a cursor of another listing is refused. */
  v?: string;
  s: Record<string, Position>;
}

/** How the sources are sorted (each in the same order) and which of their listings this is. */
export interface MergeOptions {
  /** "desc": the highest key first (the default); "asc": the lowest. */
  order?: "asc" | "desc";
  /** The listing's order and filters: a cursor of another variant is refused (bad_cursor). */
  variant?: string;
}

const MARK = "m.";
const MAX_PAGE = 100;

const invalid = () =>
  new ShopError(400, "bad_cursor", "This listing's page link is not valid; start from the first page.");

function encode(token: Token): string {
  return MARK + Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decode(cursor: string, ids: readonly string[], pageSize: number, variant: string | undefined): Token {
  if (!cursor.startsWith(MARK)) throw invalid();
  let token: Token;
  try {
    token = JSON.parse(Buffer.from(cursor.slice(MARK.length), "base64url").toString("utf8")) as Token;
  } catch {
    throw invalid();
  }
  if (token?.p !== pageSize || token.v !== variant || typeof token.s !== "object" || token.s === null) throw invalid();
  const given = Object.keys(token.s);
  if (given.length !== ids.length || !ids.every((id) => Object.hasOwn(token.s, id))) throw invalid();
  for (const position of Object.values(token.s)) {
    const ok =
      typeof position === "object" &&
      position !== null &&
      (position.c === undefined || typeof position.c === "string") &&
      (position.a === undefined || typeof position.a === "string") &&
      (position.d === undefined || position.d === 1);
    if (!ok) throw invalid();
  }
  return token;
}

/** One source read page by page from a position. Items come in `order` of `key`. */
class SourceReader<T> {
  private buffer: T[] = [];
  private pageCursor: string | undefined;
  /** The key of the last item taken from the current page. */
  private after: string | undefined;
  private nextCursor: string | undefined;
  private exhausted: boolean;
  private loaded = false;

  constructor(
    private readonly source: Source<T>,
    private readonly size: number,
    private readonly key: (item: T) => string,
    position: Position,
    private readonly order: "asc" | "desc",
  ) {
    this.pageCursor = position.c;
    this.after = position.a;
    this.exhausted = position.d === 1;
  }

  /** The next item, reading a page when the buffer is empty; undefined at the end. */
  async peek(): Promise<T | undefined> {
    while (this.buffer.length === 0 && !this.exhausted) {
      if (this.loaded) {
        // The page is used up: the next one starts at its cursor.
        if (this.nextCursor === undefined) {
          this.exhausted = true;
          break;
        }
        this.pageCursor = this.nextCursor;
        this.after = undefined;
      }
      const page = await this.source.list(
        this.pageCursor === undefined ? { limit: this.size } : { limit: this.size, cursor: this.pageCursor },
      );
      this.loaded = true;
      const after = this.after;
      // What sorts at or before the last item shown was shown (or came in since, before it: not this listing's).
      this.buffer =
        after === undefined
          ? page.items
          : page.items.filter((item) => (this.order === "desc" ? this.key(item) < after : this.key(item) > after));
      this.nextCursor = page.cursor;
    }
    return this.buffer[0];
  }

  take(): void {
    const item = this.buffer.shift();
    if (item !== undefined) this.after = this.key(item);
  }

  /** Where the next request starts. */
  async position(): Promise<Position> {
    if ((await this.peek()) === undefined) return { d: 1 };
    return {
      ...(this.pageCursor === undefined ? {} : { c: this.pageCursor }),
      ...(this.after === undefined ? {} : { a: this.after }),
    };
  }
}

/**
 * A page of `limit` items over every source, in `key` order (descending unless options say "asc"; each source serves
 * its items in that order; keys are unique), and the cursor of the next page (absent at the end).
 */
export async function mergedPage<T>(
  sources: ReadonlyArray<Source<T>>,
  key: (item: T) => string,
  limit: number,
  cursor?: string,
  options: MergeOptions = {},
): Promise<{ items: T[]; cursor?: string }> {
  const order = options.order ?? "desc";
  const variant = options.variant;
  if (sources.length === 1 && (cursor === undefined || !cursor.startsWith(MARK))) {
    const only = sources[0] as Source<T>;
    const page = await only.list(cursor === undefined ? { limit } : { limit, cursor });
    return page.cursor === undefined ? { items: page.items } : { items: page.items, cursor: page.cursor };
  }
  const size = Math.min(limit, MAX_PAGE);
  const ids = sources.map((source) => source.id);
  const token: Token =
    cursor === undefined
      ? { p: size, s: Object.fromEntries(ids.map((id) => [id, {}])) }
      : decode(cursor, ids, size, variant);
  const readers = sources.map((source) => new SourceReader(source, size, key, token.s[source.id] as Position, order));
  const items: T[] = [];
  while (items.length < limit) {
    const heads = await Promise.all(readers.map((reader) => reader.peek()));
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      if (best === -1) {
        best = i;
        continue;
      }
      const leader = key(heads[best] as T);
      if (order === "desc" ? key(head) > leader : key(head) < leader) best = i;
    }
    if (best === -1) break;
    items.push(heads[best] as T);
    readers[best]?.take();
  }
  const positions = await Promise.all(readers.map((reader) => reader.position()));
  if (positions.every((position) => position.d === 1)) return { items };
  return {
    items,
    cursor: encode({
      p: size,
      ...(variant === undefined ? {} : { v: variant }),
      s: Object.fromEntries(ids.map((id, i) => [id, positions[i] as Position])),
    }),
  };
}
