/**
 * DynamoDB's item calls without the AWS SDK's per-call machinery. The SDK spends, per call, several times the CPU of
 * the call's own work (its schema-driven serialisation, a dozen middleware steps, endpoint rules, its signer):
 * measured here against DynamoDB Local, GetItem by key, 8 in flight, alternating in one process, 447-489 µs of
 * client CPU per call through the SDK against 133-189 µs through this path (docs/store.md). For a store whose every
 * request makes several such calls, that is the difference between phase 5 keeping up with phase 1 or not.
 *
 * `withFastDataCalls(client)` keeps the SDK client and uses what it resolves (its endpoint rules, credential chain,
 * clock-skew correction, retry strategy, error-name reading and exception classes) and sends only the item calls
 * itself: the command's input as DynamoDB's JSON protocol (a TransactWriteItems given its idempotency token, as the SDK
 * gives it one), signed with `aws4` (Signature Version 4), over a keep-alive agent, the answer parsed back into the
 * SDK's output shapes (binary values as Uint8Array) and its errors into the SDK's own exception classes, tried again
 * as the client's retry strategy says. Everything else (tables, TTL, tags), a table named by ARN, a call given a
 * callback or a request timeout, and every call of a client given an older kind of retry strategy (one with a
 * `retry()` method) go through the SDK as before. Middleware added to the client does not see the item calls, and
 * the client's request handler settings (its agents, timeouts, proxy and TLS options) do not apply to them: use
 * neither with this.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import * as exceptions from "@aws-sdk/client-dynamodb";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { getEndpointFromInstructions } from "@smithy/core/endpoints";
import { HttpResponse, loadJsonRpcErrorCode } from "@smithy/core/protocols";
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import aws4 from "aws4";

/** The SDK's command classes this path sends, by operation name. */
const OPERATIONS: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [GetItemCommand, "GetItem"],
  [PutItemCommand, "PutItem"],
  [UpdateItemCommand, "UpdateItem"],
  [DeleteItemCommand, "DeleteItem"],
  [QueryCommand, "Query"],
  [ScanCommand, "Scan"],
  [BatchGetItemCommand, "BatchGetItem"],
  [BatchWriteItemCommand, "BatchWriteItem"],
  [TransactGetItemsCommand, "TransactGetItems"],
  [TransactWriteItemsCommand, "TransactWriteItems"],
]);

/** An error after a correction of the clock by at least this much is tried again (the SDK's threshold). */
const CLOCK_SKEW_MS = 240_000;
/** An answer that took longer than this says nothing about the server's clock (the SDK's limit). */
const CLOCK_SAMPLE_MAX_MS = 900_000;
/** Network errors the SDK's HTTP handler renames TimeoutError. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
  $retryLog?: { acquisitionDelay?: number };
}

/** The SDK's retry strategy (its standard, adaptive or configured one: version 2), as the client resolved it. */
interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: { error: unknown; errorType: string }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

interface Endpoint {
  url: URL;
  /** The host name as http.request takes it (an IPv6 address without its brackets). */
  hostname: string;
  signingRegion: string;
  signingName: string;
  /** Undefined for a client given a strategy of the SDK's older kind (a `retry()` method): its calls go by the SDK. */
  retry: RetryStrategy | undefined;
  skewCorrection: boolean;
  /** The SDK's default socket timeout, when the client has one (none unless the SDK's environment turns it on). */
  socketTimeoutMs: number | undefined;
  agent: http.Agent;
  request: typeof http.request;
}

/** The SDK's metadata of a call, as its outputs and errors carry it. */
interface Metadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
  clockSkewCorrected?: boolean;
}

type Send = DynamoDBClient["send"];

/**
 * `client`, its item calls (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem,
 * TransactGetItems, TransactWriteItems) sent by this module's leaner path; returns the same client. `destroy()` also
 * closes this path's connections.
 */
export function withFastDataCalls<T extends DynamoDBClient>(client: T): T {
  const transport = new FastTransport(client);
  const viaSdk = client.send.bind(client) as (...args: unknown[]) => unknown;
  const send = (command: { input?: unknown; constructor: unknown }, ...rest: unknown[]): unknown => {
    const operation = OPERATIONS.get(command.constructor);
    const options = rest[0] as { abortSignal?: AbortSignal; requestTimeout?: unknown } | undefined;
    if (
      operation === undefined ||
      rest.some((arg) => typeof arg === "function") ||
      // A per-call request timeout is the SDK's HTTP handler's.
      options?.requestTimeout !== undefined ||
      // A table named by its ARN can have an endpoint of its own (the SDK's rules read it); an input not shaped as
      // the operation's is the SDK's to refuse.
      !plainTableNames(command.input)
    ) {
      return viaSdk(command, ...rest);
    }
    return transport.call(operation, command.input, options?.abortSignal, () => viaSdk(command, ...rest));
  };
  client.send = send as unknown as Send;
  const destroy = client.destroy.bind(client);
  client.destroy = () => {
    transport.destroy();
    destroy();
  };
  return client;
}

/**
 * True when every table the input names is named by name, not by ARN (a batch's and a transaction's tables too);
 * false for an input not shaped as an item call's.
 */
function plainTableNames(input: unknown): boolean {
  const arn = (name: unknown) => typeof name === "string" && name.startsWith("arn:");
  if (input === null || typeof input !== "object") return false;
  const { TableName, RequestItems, TransactItems } = input as {
    TableName?: unknown;
    RequestItems?: unknown;
    TransactItems?: unknown;
  };
  if (arn(TableName)) return false;
  if (RequestItems !== undefined) {
    if (RequestItems === null || typeof RequestItems !== "object") return false;
    if (Object.keys(RequestItems).some(arn)) return false;
  }
  if (TransactItems !== undefined) {
    if (!Array.isArray(TransactItems)) return false;
    for (const one of TransactItems) {
      if (one === null || typeof one !== "object") return false;
      for (const action of Object.values(one))
        if (arn((action as { TableName?: unknown } | null)?.TableName)) return false;
    }
  }
  return true;
}

class FastTransport {
  private endpoint: Promise<Endpoint> | undefined;
  private readonly agents: http.Agent[] = [];

  constructor(private readonly client: DynamoDBClient) {}

  destroy(): void {
    for (const agent of this.agents) agent.destroy();
  }

  /** The endpoint the SDK would call (its own endpoint rules, for a table named by name), resolved once. */
  private resolveEndpoint(): Promise<Endpoint> {
    this.endpoint ??= (async () => {
      const config = this.client.config;
      // A copy, as the SDK's middleware passes one: resolving an endpoint from the environment writes to the config.
      const resolved = await getEndpointFromInstructions(
        {},
        GetItemCommand as unknown as Parameters<typeof getEndpointFromInstructions>[1],
        { ...config } as unknown as Parameters<typeof getEndpointFromInstructions>[2],
      );
      const url = new URL(resolved.url.href);
      if (!url.pathname.endsWith("/")) url.pathname += "/";
      const scheme = (resolved.properties?.authSchemes as Array<{ signingRegion?: string; signingName?: string }>)?.[0];
      const secure = url.protocol === "https:";
      const strategy = (await (config.retryStrategy as unknown as () => Promise<unknown>)()) as Partial<RetryStrategy>;
      const current =
        typeof strategy.acquireInitialRetryToken === "function" &&
        typeof strategy.refreshRetryTokenForRetry === "function" &&
        typeof strategy.recordSuccess === "function";
      const disabled = (config as { disableClockSkewCorrection?: () => Promise<boolean | undefined> })
        .disableClockSkewCorrection;
      const skewCorrection = (await disabled?.()) !== true;
      const signingRegion = scheme?.signingRegion ?? (await config.region());
      // The SDK's own defaults for its Node handler: keep-alive, at most 50 sockets per host.
      const agent = secure
        ? new https.Agent({ keepAlive: true, maxSockets: 50 })
        : new http.Agent({ keepAlive: true, maxSockets: 50 });
      this.agents.push(agent);
      const socketTimeout = (config as { defaultSocketTimeout?: unknown }).defaultSocketTimeout;
      return {
        url,
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        signingRegion,
        signingName: scheme?.signingName ?? "dynamodb",
        retry: current ? (strategy as RetryStrategy) : undefined,
        skewCorrection,
        socketTimeoutMs: typeof socketTimeout === "number" && socketTimeout > 0 ? socketTimeout : undefined,
        agent,
        request: secure ? https.request : http.request,
      };
    })().catch((error: unknown) => {
      this.endpoint = undefined;
      throw error;
    });
    return this.endpoint;
  }

  /** One call, tried again as the client's retry strategy says (the SDK's retry middleware, step by step). */
  async call(
    operation: string,
    input: unknown,
    signal: AbortSignal | undefined,
    viaSdk: () => unknown,
  ): Promise<unknown> {
    const endpoint = await race(this.resolveEndpoint(), signal);
    const retry = endpoint.retry;
    if (retry === undefined) return viaSdk();
    // The SDK fills in the idempotency token once per call, so that a try again after a lost answer is applied once.
    const sent =
      operation === "TransactWriteItems" && (input as { ClientRequestToken?: unknown }).ClientRequestToken === undefined
        ? { ...(input as object), ClientRequestToken: randomUUID() }
        : input;
    const body = JSON.stringify(sent, wireValues);
    let token = await race(retry.acquireInitialRetryToken(""), signal);
    let attempts = 0;
    let totalRetryDelay = 0;
    for (;;) {
      let failure: unknown;
      try {
        const output = await this.attempt(endpoint, operation, body, signal);
        retry.recordSuccess(token);
        output.$metadata.attempts = attempts + 1;
        output.$metadata.totalRetryDelay = totalRetryDelay;
        return output;
      } catch (error) {
        failure = error;
      }
      try {
        token = await race(retry.refreshRetryTokenForRetry(token, retryErrorInfo(failure)), signal);
      } catch (refused) {
        if (signal?.aborted && (refused as { name?: unknown }).name === "AbortError") throw refused;
        const error =
          failure !== null && typeof failure === "object" ? failure : new Error(`AWS SDK error wrapper for ${failure}`);
        const holder = error as { $metadata?: Metadata };
        holder.$metadata = { ...holder.$metadata, attempts: attempts + 1, totalRetryDelay };
        throw error;
      }
      attempts = token.getRetryCount();
      const delay = token.getRetryDelay();
      totalRetryDelay += (token.$retryLog?.acquisitionDelay ?? 0) + delay;
      if (delay > 0) await race(new Promise((resolve) => setTimeout(resolve, delay)), signal);
    }
  }

  /** One try: the output with its metadata, or the SDK's exception for the answer (or the network's error). */
  private async attempt(
    endpoint: Endpoint,
    operation: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ $metadata: Metadata }> {
    const offsetBefore = this.clockOffset();
    const sentAt = Date.now();
    const answer = await this.post(endpoint, operation, body, signal);
    const header = (name: string) => {
      const value = answer.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const metadata: Metadata = {
      httpStatusCode: answer.status,
      requestId: header("x-amzn-requestid") ?? header("x-amzn-request-id") ?? header("x-amz-request-id"),
      extendedRequestId: header("x-amz-id-2"),
      cfId: header("x-amz-cf-id"),
    };
    const response = new HttpResponse({ statusCode: answer.status, headers: flatHeaders(answer.headers) });
    const ok = answer.status >= 200 && answer.status < 300;
    let parsed: Record<string, unknown> | undefined;
    let failure: Error | undefined;
    try {
      parsed = parse(answer.text);
      if (!ok) failure = serviceException(parsed, response, metadata);
    } catch (error) {
      // An answer that is not JSON (a proxy's error page, a cut body): the SDK's error with the answer's status.
      failure = Object.assign(error as Error, { $metadata: metadata });
    }
    if (endpoint.skewCorrection) this.sampleClock(header("date"), header("age"), sentAt, offsetBefore, failure);
    if (failure === undefined && parsed !== undefined) return { ...parsed, $metadata: metadata };
    Object.defineProperty(failure, "$response", { value: response, enumerable: false, writable: false });
    throw failure;
  }

  private clockOffset(): number {
    return (this.client.config as { systemClockOffset?: number }).systemClockOffset ?? 0;
  }

  /**
   * The SDK's clock-skew correction (its SigV4 signer's success and error handlers): every answer's Date header resets
   * the client's clock offset; an error after a correction of at least 4 minutes is marked, and so tried again.
   */
  private sampleClock(
    date: string | undefined,
    age: string | undefined,
    sentAt: number,
    offsetBefore: number,
    failure: Error | undefined,
  ): void {
    const serverTime = (failure as { ServerTime?: unknown } | undefined)?.ServerTime ?? date;
    if (serverTime === undefined || age !== undefined) return;
    const server = serverTime instanceof Date ? serverTime.getTime() : Date.parse(String(serverTime));
    const now = Date.now();
    if (Number.isNaN(server) || now - sentAt > CLOCK_SAMPLE_MAX_MS) return;
    const offset = server - now;
    (this.client.config as { systemClockOffset?: number }).systemClockOffset = offset;
    const metadata = (failure as { $metadata?: Metadata } | undefined)?.$metadata;
    if (metadata !== undefined && Math.abs(offset) >= CLOCK_SKEW_MS && offset !== offsetBefore) {
      metadata.clockSkewCorrected = true;
    }
  }

  private async post(
    endpoint: Endpoint,
    operation: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const { url, hostname, agent, request } = endpoint;
    const credentials = await this.client.config.credentials();
    const offset = endpoint.skewCorrection ? this.clockOffset() : 0;
    const signed = aws4.sign(
      {
        host: url.host,
        path: url.pathname,
        method: "POST",
        service: endpoint.signingName,
        region: endpoint.signingRegion,
        body,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": `DynamoDB_20120810.${operation}`,
          "X-Amz-Date": amzDate(Date.now() + offset),
        },
      },
      {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
      },
    );
    if (signal?.aborted) throw abortError(signal);
    return new Promise((resolve, reject) => {
      const sent = request(
        {
          protocol: url.protocol,
          hostname,
          port: url.port === "" ? undefined : Number(url.port),
          path: url.pathname,
          method: "POST",
          headers: signed.headers as http.OutgoingHttpHeaders,
          agent,
          ...(signal === undefined ? {} : { signal }),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (error) => reject(signal?.aborted ? abortError(signal) : error));
          response.on("end", () => {
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            });
          });
        },
      );
      if (endpoint.socketTimeoutMs !== undefined) {
        // As the SDK's handler does: a socket silent for this long ends the call with a TimeoutError (tried again).
        sent.setTimeout(endpoint.socketTimeoutMs, () =>
          sent.destroy(Object.assign(new Error("socket timed out"), { name: "TimeoutError", code: "ETIMEDOUT" })),
        );
      }
      sent.on("error", (error: NodeJS.ErrnoException) => {
        if (signal?.aborted) reject(abortError(signal));
        else if (error.code !== undefined && TIMEOUT_CODES.has(error.code)) {
          reject(Object.assign(error, { name: "TimeoutError" }));
        } else reject(error);
      });
      sent.end(body);
    });
  }
}

/** SigV4's date form: 20261205T193000Z. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/** An answer's headers, one string each (as the SDK's HTTP handler joins repeated ones). */
function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return flat;
}

/** The SDK's account of an error for its retry strategy: its kind, and the answer's Retry-After. */
function retryErrorInfo(error: unknown): { error: unknown; errorType: string; retryAfterHint?: Date } {
  const seen = (error ?? {}) as Parameters<typeof isThrottlingError>[0];
  const errorType = isThrottlingError(seen)
    ? "THROTTLING"
    : isTransientError(seen)
      ? "TRANSIENT"
      : isServerError(seen)
        ? "SERVER_ERROR"
        : "CLIENT_ERROR";
  const hint = getRetryAfterHint((error as { $response?: unknown } | undefined)?.$response);
  return { error, errorType, ...(hint === undefined ? {} : { retryAfterHint: hint }) };
}

/** `promise`, or the SDK's AbortError as soon as `signal` aborts. */
function race<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  let cleanup = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const abort = () => reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
    if (signal.aborted) abort();
    else {
      signal.addEventListener("abort", abort, { once: true });
      cleanup = () => signal.removeEventListener("abort", abort);
    }
  });
  return Promise.race([promise, aborted]).finally(cleanup);
}

/** What the SDK's HTTP handler throws for an aborted call: an AbortError, the signal's reason its cause. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason !== undefined && reason !== null && !(reason instanceof Error)) {
    return Object.assign(new Error(String(reason)), { name: "AbortError" });
  }
  const error = Object.assign(new Error("Request aborted"), { name: "AbortError" });
  if (reason instanceof Error) error.cause = reason;
  return error;
}

/**
 * JSON.stringify's replacer, for what the SDK's serialiser does: binary values (B, BS) as base64, members set to null
 * left out.
 */
function wireValues(this: unknown, key: string, value: unknown): unknown {
  // `value` is already Buffer#toJSON's result for a Buffer: look at the holder's own value.
  const own = (this as Record<string, unknown>)[key];
  if (own instanceof Uint8Array) return Buffer.from(own.buffer, own.byteOffset, own.byteLength).toString("base64");
  if (value === null && !Array.isArray(this)) return undefined;
  return value;
}

/** Binary values in an answer: "B": "…" or "BS": [, however the JSON is spaced. */
const BINARY = /"BS?"\s*:\s*[["]/;

/** An answer's JSON; binary values (B, BS) back to Uint8Array as the SDK gives them. */
function parse(text: string): Record<string, unknown> {
  if (text === "") return {};
  if (!BINARY.test(text)) return JSON.parse(text) as Record<string, unknown>;
  return JSON.parse(text, (key, value: unknown) => {
    // An attribute *named* B or BS holds an attribute value (an object), never a string or a list of strings.
    if (key === "B" && typeof value === "string") return bytes(value);
    if (key === "BS" && Array.isArray(value) && value.every((one) => typeof one === "string")) {
      return value.map((one: string) => bytes(one));
    }
    return value;
  }) as Record<string, unknown>;
}

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

type ExceptionClass = new (options: Record<string, unknown>) => DynamoDBServiceException;

/**
 * The SDK's exception for an error answer, built the way its JSON protocol builds it: the class by the error's name
 * (the service's base exception for a name it does not know), the call's metadata and fault, then every field of the
 * answer the exception does not have yet (its __type too), `message` from `message` or `Message`.
 */
function serviceException(answer: unknown, response: HttpResponse, metadata: Metadata): DynamoDBServiceException {
  const body = (answer !== null && typeof answer === "object" ? answer : {}) as Record<string, unknown>;
  // The SDK's own reading of the name: the body's __type, its code, or the x-amzn-errortype header, cleaned.
  const identifier = loadJsonRpcErrorCode(response, body, false) ?? "Unknown";
  const name = identifier.slice(identifier.lastIndexOf("#") + 1);
  const candidate = (exceptions as unknown as Record<string, unknown>)[name];
  const known = typeof candidate === "function" && candidate.prototype instanceof DynamoDBServiceException;
  const fault = (metadata.httpStatusCode ?? 0) < 500 ? "client" : "server";
  const exception = known
    ? new (candidate as ExceptionClass)({})
    : new DynamoDBServiceException({ name, $fault: fault, $metadata: metadata });
  const message = body.message ?? body.Message ?? "UnknownError";
  Object.assign(exception, { $metadata: metadata, $fault: known ? exception.$fault : fault, message });
  const fields = exception as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(body)) {
    if (value !== undefined && (fields[field] === undefined || fields[field] === null || fields[field] === "")) {
      fields[field] = value;
    }
  }
  exception.message = String(exception.message || fields.Message || "UnknownError");
  delete fields.Message;
  return exception;
}
