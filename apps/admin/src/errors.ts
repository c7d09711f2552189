/** The console's errors as answered: an HTTP status, a code for the API and a sentence for a person. */
export class AdminError extends Error {
  override readonly name = "AdminError";
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503,
    readonly code: string,
    message: string,
    /** A message per form field, for validation errors. */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

/** The API's one error shape. */
export function apiError(error: AdminError): {
  error: { code: string; message: string; fields?: Record<string, string> };
} {
  return { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } };
}
