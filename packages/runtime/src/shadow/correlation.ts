/**
 * The correlation id of the request being served, so that a shadow mismatch can be traced back to the request (and
 * its logs) that saw it. Apps set it in their middleware with withCorrelationId(); everything the request awaits
 * inside sees it through currentCorrelationId().
 */
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<string>();

/** Runs `fn` with `id` as the current correlation id (for it and everything it starts). */
export function withCorrelationId<R>(id: string, fn: () => R): R {
  return storage.run(id, fn);
}

/** The correlation id set by the innermost withCorrelationId() around this call, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}
