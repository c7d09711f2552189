/** Listings a page at a time, as generated repositories take and return them. */
import type { ListPage } from "../router/index.ts";

/** How many items a page holds when the request does not say. */
export const DEFAULT_PAGE_LIMIT = 50;

/** Which page of a listing: at most `limit` items (default 50), after `cursor` from the previous page. */
export interface PageRequest {
  limit?: number;
  cursor?: string;
  /** The other way round from the access pattern's order (or ascending when it has none): "asc" or "desc". */
  order?: "asc" | "desc";
}

/**
 * One page of a listing; `cursor` is there when more may follow. A cursor is refused after a phase change moved reads
 * to the other store: restart the listing then.
 */
export type Page<T> = ListPage<T>;

/** The limit, cursor and order of a page request, as EntityRouter.list takes them (spread after the pattern's order). */
export function pageOptions(page: PageRequest): { limit: number; cursor?: string; order?: "asc" | "desc" } {
  const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
  return {
    limit,
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    ...(page.order === undefined ? {} : { order: page.order }),
  };
}
