/**
 * How a sensitive attribute's value (`sensitive` in the contract: a password hash, a token) is shown wherever ferry
 * shows values (the console's record inspector, validation diffs, shadow mismatches, codec errors): `hidden #<tag>`.
 * The tag is an HMAC of the value under a key this process draws at start: two different values get different tags
 * within what one process reports, so a diff still shows that they differ, and the tag cannot be turned back into the
 * value (nor matched against tags of guessed values elsewhere).
 */
import { createHmac, randomBytes } from "node:crypto";

const TAG_KEY = randomBytes(32);

/** The text of a value that is never shown. */
export const HIDDEN = "hidden";

/** A normalised value as it may be shown: `hidden #<8 hex digits>`; null stays null. */
export function conceal(value: string | null): string | null {
  if (value === null) return null;
  return `${HIDDEN} #${createHmac("sha256", TAG_KEY).update(value).digest("hex").slice(0, 8)}`;
}
