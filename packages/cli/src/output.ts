/** How the CLI talks to a person: results on stdout, progress and errors on stderr. */

export interface ErrorLike {
  message: string;
  hint?: string | undefined;
}

/** Prints an error the way users see it: one line, an optional hint, never a stack trace. */
export function printError(error: unknown): void {
  const { message, hint } = toErrorLike(error);
  process.stderr.write(`error: ${message}\n`);
  if (hint) process.stderr.write(`${hint.replace(/^/gm, "  ")}\n`);
}

function toErrorLike(error: unknown): ErrorLike {
  if (error instanceof Error) {
    const hint = (error as { hint?: unknown }).hint;
    return { message: error.message || error.name, hint: typeof hint === "string" ? hint : undefined };
  }
  return { message: String(error) };
}

export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Two columns, the first padded. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join("\n");
}
