/**
 * Closing an app's HTTP server without hanging on a connection that never goes idle: a keep-alive client sending
 * request after request, or a stream that stays open (the console's server-sent events).
 */

/** How long requests in flight have to finish when a server closes, unless told otherwise. */
export const CLOSE_GRACE_MS = 2_000;

/**
 * Stops taking connections, closes idle keep-alive ones now (and each one as it goes idle: a request in flight that
 * finishes does not hold the close up) and every other one once its requests have had `graceMs` to finish; resolves
 * when the server has closed.
 */
export async function closeHttpServer(
  server: { close(callback: (error?: Error) => void): unknown },
  graceMs = CLOSE_GRACE_MS,
): Promise<void> {
  const http = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void };
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  http.closeIdleConnections();
  const idle = setInterval(() => http.closeIdleConnections(), 50);
  const cut = setTimeout(() => http.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}
