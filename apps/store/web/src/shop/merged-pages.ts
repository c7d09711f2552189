/**
 * One listing over several listings of the same order (a parent category's products and each child's): the sources
 * read in pages of a fixed size, merged, and one cursor that says where each stands: the store's cursor of the page
 * its next item is on (absent: the first page) and how many of that page were shown already. With the page size
 * fixed (it travels in the cursor), re-reading that page gives the same items, so each request reads about what it
 * shows.
 */
import type { Page, PageRequest } from "@ferry/store-data";
import { ShopError } from "../http/errors.ts";

export type Source<T> = (page: PageRequest) => Promise<Page<T>>;

/** Where one source stands. */
interface Position {
  /** The store's cursor of the page the next item is on (absent: the first page). */
  c?: string;
  /** Items of that page already shown (less than the page size). */
  k: number;
  /** Nothing more in this source. */
  d?: 1;
}

interface Token {
  /** The page size every source is read in. */
  p: number;
  s: Position[];
}

const MARK = "m.";
const MAX_PAGE = 100;

function encode(token: Token): string {
  return MARK + Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decode(cursor: string, sources: number): Token {
  const invalid = () =>
    new ShopError(400, "bad_cursor", "This listing's page link is not valid; start from the first page.");
  if (!cursor.startsWith(MARK)) throw invalid();
  let token: Token;
  try {
    token = JSON.parse(Buffer.from(cursor.slice(MARK.length), "base64url").toString("utf8")) as Token;
  } catch {
    throw invalid();
  }
  const p = token?.p;
  if (!Number.isSafeInteger(p) || p < 1 || p > MAX_PAGE || !Array.isArray(token.s) || token.s.length !== sources) {
    throw invalid();
  }
  for (const position of token.s) {
    const ok =
      typeof position === "object" &&
      position !== null &&
      Number.isSafeInteger(position.k) &&
      position.k >= 0 &&
      position.k < p &&
      (position.c === undefined || typeof position.c === "string") &&
      (position.d === undefined || position.d === 1);
    if (!ok) throw invalid();
  }
  return token;
}

/** One source read page by page from a position, remembering which page each buffered item came from. */
class SourceReader<T> {
  private buffer: T[] = [];
  /** The store cursor of the page the buffer's first item is on, and that item's index in it. */
  private pageCursor: string | undefined;
  private index: number;
  private nextCursor: string | undefined;
  private exhausted: boolean;
  private loaded = false;

  constructor(
    private readonly source: Source<T>,
    private readonly size: number,
    position: Position,
  ) {
    this.pageCursor = position.c;
    this.index = position.k;
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
        this.index = 0;
      }
      const page = await this.source(
        this.pageCursor === undefined ? { limit: this.size } : { limit: this.size, cursor: this.pageCursor },
      );
      this.loaded = true;
      this.buffer = page.items.slice(this.index);
      this.nextCursor = page.cursor;
      if (this.buffer.length === 0 && page.cursor === undefined) this.exhausted = true;
    }
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
    this.index++;
  }

  /** Where the next request starts. */
  async position(): Promise<Position> {
    if ((await this.peek()) === undefined) return { k: 0, d: 1 };
    return this.pageCursor === undefined ? { k: this.index } : { c: this.pageCursor, k: this.index };
  }
}

/** A page of `limit` items in `compare` order over every source, and the cursor of the next (absent at the end). */
export async function mergedPage<T>(
  sources: ReadonlyArray<Source<T>>,
  compare: (a: T, b: T) => number,
  limit: number,
  cursor?: string,
): Promise<{ items: T[]; cursor?: string }> {
  if (sources.length === 1 && (cursor === undefined || !cursor.startsWith(MARK))) {
    const only = sources[0] as Source<T>;
    const page = await only(cursor === undefined ? { limit } : { limit, cursor });
    return page.cursor === undefined ? { items: page.items } : { items: page.items, cursor: page.cursor };
  }
  const token: Token =
    cursor === undefined
      ? { p: Math.min(limit, MAX_PAGE), s: sources.map(() => ({ k: 0 })) }
      : decode(cursor, sources.length);
  const readers = sources.map((source, i) => new SourceReader(source, token.p, token.s[i] as Position));
  const items: T[] = [];
  while (items.length < limit) {
    const heads = await Promise.all(readers.map((reader) => reader.peek()));
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      if (best === -1 || compare(head, heads[best] as T) < 0) best = i;
    }
    if (best === -1) break;
    items.push(heads[best] as T);
    readers[best]?.take();
  }
  const positions = await Promise.all(readers.map((reader) => reader.position()));
  return positions.every((position) => position.d === 1)
    ? { items }
    : { items, cursor: encode({ p: token.p, s: positions }) };
}
