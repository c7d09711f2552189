/**
 * Logging a failure that repeats (a store that does not answer, read again every few hundred milliseconds) once when
 * it starts and once when it ends, not on every try while it lasts.
 */
export class FailureLog {
  private readonly failing = new Set<string>();

  constructor(private readonly log: (message: string, error?: unknown) => void) {}

  /** Logs `message` when `what` starts failing; nothing while it goes on failing. */
  failed(what: string, message: string, error: unknown): void {
    if (this.failing.has(what)) return;
    this.failing.add(what);
    this.log(`${message} (logged once until it works again)`, error);
  }

  /** Logs `message` when `what` works again after failing; nothing when it was working. */
  recovered(what: string, message: string): void {
    if (this.failing.delete(what)) this.log(message);
  }
}
