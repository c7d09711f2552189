/** Which errors are a store being away for a while, worth another try, and which are final. */

/**
 * MySQL errors of the server or the connection that a later try may not meet: too many connections, shutdown, lock
 * wait timeout, deadlock, connection killed, can't connect, server gone, connection lost.
 */
const TRANSIENT_MYSQL_ERRORS: ReadonlySet<number> = new Set([1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
]);

/** HTTP statuses of a server that is busy or restarting (the SDK's own classification says the same). */
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** An error of a store being away for a while (a connection, a timeout, a busy server), not of the data. */
export function isTransient(error: unknown): boolean {
  const { errno, code, name, $retryable, $metadata } = (error ?? {}) as {
    errno?: unknown;
    code?: unknown;
    name?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (name === "AbortError") return false;
  if (typeof errno === "number" && TRANSIENT_MYSQL_ERRORS.has(errno)) return true;
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  if ($retryable !== undefined) return true;
  if (typeof $metadata?.httpStatusCode === "number" && TRANSIENT_STATUS.has($metadata.httpStatusCode)) return true;
  // Not an error's cause: ferry's own errors wrap one that was already tried again (BackfillError "failed after N tries").
  return (
    name === "TimeoutError" ||
    name === "InternalServerError" ||
    name === "ServiceUnavailable" ||
    name === "ProvisionedThroughputExceededException" ||
    name === "ThrottlingException"
  );
}

/** How often retryTransient tries, unless told otherwise. */
export const TRANSIENT_ATTEMPTS = 6;

/**
 * `work` tried again after a transient error (isTransient: a connection reset, a timeout, a throttle), up to `attempts`
 * tries with jittered exponential backoff (up to 4 s); anything else, or the last try's error, is thrown as it is.
 * For long work (a backfill, a validation) that one dropped connection must not undo.
 */
export async function retryTransient<T>(
  work: () => Promise<T>,
  options: { attempts?: number; onRetry?: (error: unknown, attempt: number) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? TRANSIENT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= attempts) throw error;
      options.onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(4_000, 100 * 2 ** attempt)));
    }
  }
}
