/**
 * How a sensitive attribute's value (`sensitive` in the contract: a password hash, a token) is shown wherever ferry
 * shows values (the console's record inspector, validation diffs, shadow mismatches, codec errors): `hidden #<tag>`.
 * The tag is an HMAC of the attribute's name and the value under a key this process draws at start: two different
 * values get different tags within one diff or inspection, so it still shows that they differ; the same value in two
 * attributes gets two tags; and a tag cannot be turned back into the value, nor matched against tags another process
 * made (a report written by one process and read in the console of another shows tags that only compare among
 * themselves).
 */
import { createHmac, randomBytes } from "node:crypto";

const TAG_KEY = randomBytes(32);

/** The text of a value that is never shown. */
export const HIDDEN = "hidden";

/** A normalised value of `scope` (an "Entity.attribute") as it may be shown: `hidden #<8 hex digits>`; null stays null. */
export function conceal(value: string | null, scope: string): string | null {
  if (value === null) return null;
  const tag = createHmac("sha256", TAG_KEY).update(scope).update("\0").update(value).digest("hex").slice(0, 8);
  return `${HIDDEN} #${tag}`;
}

/** A text conceal() made. */
export const CONCEALED = /^hidden #[0-9a-f]{8}$/;

/**
 * A value kept before its attribute was marked sensitive (a validation report or a shadow mismatch stored by then, or
 * by a process on the contract before), as it may be shown now: concealed, unless it is already.
 */
export function concealKept(value: string | null, scope: string): string | null {
  return value === null || CONCEALED.test(value) ? value : conceal(value, scope);
}
