/**
 * What a request being served tells the shadow reads it starts:
 * - its correlation id, so that a shadow mismatch can be traced back to the request (and its logs) that saw it. Apps
 *   set it in their middleware with withCorrelationId(); everything the request awaits inside sees it through
 *   currentCorrelationId();
 * - when it has answered (shadowReadsAfter): its shadow reads start then, so their CPU work (the SDK's signing and
 *   parsing, the comparison) never runs between the request's own steps and adds nothing to its latency. A request
 *   that writes may use it too: a shadow read started after the request's own write may see the write and differ from
 *   the served read; such a difference is read again on both stores (the reader's rechecks, for reads that have one),
 *   where the two agree, and is counted as settled. What it costs is those rechecks (and, as for any difference, a
 *   recheck that fails or runs out of its budget leaves it a mismatch).
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface RequestScope {
  id?: string;
  /** Settles once the request has answered. */
  answered?: Promise<void>;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` with `id` as the current correlation id (for it and everything it starts). */
export function withCorrelationId<R>(id: string, fn: () => R): R {
  return storage.run({ ...storage.getStore(), id }, fn);
}

/** The correlation id set by the innermost withCorrelationId() around this call, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.id;
}

/**
 * Runs a request so that the shadow reads it starts wait until it has answered (`fn` has settled, and the event loop has
 * had a turn to hand the response on). Resolves or rejects as `fn` does.
 */
export async function shadowReadsAfter<R>(fn: () => Promise<R>): Promise<R> {
  let answer: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  try {
    return await storage.run({ ...storage.getStore(), answered }, fn);
  } finally {
    setImmediate(answer);
  }
}

/** When the request around this call has answered (shadowReadsAfter), if there is one. */
export function requestAnswered(): Promise<void> | undefined {
  return storage.getStore()?.answered;
}
