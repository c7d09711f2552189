/**
 * A listing asked for with a cursor the store no longer takes (a phase change moved reads to the other store, or the
 * link was mangled) starts again from its first page instead of failing, and says so.
 */
import { CursorError, CursorStoreChanged } from "@ferry/runtime";
import { ShopError } from "./errors.ts";

export async function restartable<T>(
  cursor: string | undefined,
  list: (cursor: string | undefined) => Promise<T>,
): Promise<{ page: T; restarted: boolean }> {
  try {
    return { page: await list(cursor), restarted: false };
  } catch (error) {
    const stale =
      error instanceof CursorStoreChanged ||
      error instanceof CursorError ||
      (error instanceof ShopError && error.code === "bad_cursor");
    if (cursor === undefined || !stale) throw error;
    return { page: await list(undefined), restarted: true };
  }
}

export const RESTARTED = "The list changed since your last page, so it starts again from the top.";
