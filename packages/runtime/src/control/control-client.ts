/**
 * The control table's own DynamoDB client: the phase reads and heartbeats that keep a process's write lease must never
 * wait for a connection behind the data's calls (the SDK's pool holds 50 sockets per client, and after an outage the
 * outbox drain and the load can fill them with slow calls for longer than the lease), nor hang on one call.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** A control call not answered (its response's headers) after this long is given up; the next refresh makes it again. */
export const CONTROL_REQUEST_TIMEOUT_MS = 5_000;

/** Connections of its own: a refresh is a read and a write, a move's poll one more. */
const CONTROL_SOCKETS = 8;

/**
 * A client with `client`'s region, credentials and endpoint, and connections of its own; each call is one attempt, given
 * up after CONTROL_REQUEST_TIMEOUT_MS (the SDK's retries would stretch one call over the lease: the next refresh, a
 * refresh interval later, is the retry). The caller destroys it.
 */
export function controlClientFor(client: DynamoDBClient): DynamoDBClient {
  const config = client.config;
  const own = new DynamoDBClient({
    region: config.region,
    credentials: config.credentials,
    ...(config.isCustomEndpoint && config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    useFipsEndpoint: config.useFipsEndpoint,
    useDualstackEndpoint: config.useDualstackEndpoint,
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: CONTROL_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      httpAgent: { maxSockets: CONTROL_SOCKETS },
      httpsAgent: { maxSockets: CONTROL_SOCKETS },
    },
  });
  // No SDK logger is configured; its middleware would only copy every call for nothing.
  own.middlewareStack.remove("loggerMiddleware");
  return own;
}
