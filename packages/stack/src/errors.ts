/**
 * An error meant for a person: a one-line message, an optional hint with the command that fixes it,
 * and the underlying cause. The CLI prints message and hint, never a stack trace.
 */
export class StackError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StackError";
    this.hint = options.hint;
  }
}

/** The message of anything thrown, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join("; ");
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
