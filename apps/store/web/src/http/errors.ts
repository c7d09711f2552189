/**
 * What a request can go wrong with, as the shopper sees it: a status, a code the API returns, a message, and for a
 * form the message of each field. Nothing else reaches a response (no stack trace, no store's own message).
 */
export class ShopError extends Error {
  override readonly name = "ShopError";
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 402 | 503,
    readonly code: string,
    message: string,
    /** Per-field messages of a form (field name -> message). */
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A form or body that does not hold: 400 with a message per field. */
export function invalid(fields: Record<string, string>, message = "Some fields need attention."): ShopError {
  return new ShopError(400, "invalid", message, fields);
}

export function notFound(what = "This page"): ShopError {
  return new ShopError(404, "not_found", `${what} does not exist.`);
}

/** The API's one error shape. */
export interface ApiError {
  error: { code: string; message: string; fields?: Record<string, string> };
}

export function apiError(error: ShopError): ApiError {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(Object.keys(error.fields).length > 0 ? { fields: { ...error.fields } } : {}),
    },
  };
}
