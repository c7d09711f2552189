/** The versions DynamoDB items carry (`__version`), which conditional writes rely on. */

let created = 0;

/**
 * The version a new item starts at: the time in ms times 1000 plus a counter, so that an item deleted and created
 * again under the same key never comes back at a version a reader saw before (a write at the version it read,
 * `ifVersion`, would take it for unchanged). Updates add 1; this stays below 2^53 for centuries.
 */
export function firstVersion(): string {
  created = (created + 1) % 1000;
  return String(Date.now() * 1000 + created);
}
