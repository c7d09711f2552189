/**
 * Password hashes as the store keeps them: `scrypt$N$r$p$<salt base64>$<key base64>`, a
 * self-describing string, so the cost can be raised later without breaking old hashes.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** Node's defaults (about 50 ms and 16 MiB per hash). */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 16_384, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: ScryptCost, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = 256 * cost.N * cost.r * cost.p + 1024 * 1024;
    scrypt(password.normalize("NFC"), salt, keyLength, { ...cost, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a password. `salt` defaults to 16 random bytes; seeding passes a salt derived from the
 * account (see `seedSalt`) so the seeded data is the same every time.
 */
export async function hashPassword(
  password: string,
  options: { salt?: Buffer; cost?: ScryptCost } = {},
): Promise<string> {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  const salt = options.salt ?? randomBytes(16);
  const key = await derive(password, salt, cost, KEY_LENGTH);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** A fixed 16-byte salt for a seeded account: sha256("ferry-seed-salt:" + name), truncated. */
export function seedSalt(name: string): Buffer {
  return createHash("sha256").update(`ferry-seed-salt:${name}`).digest().subarray(0, 16);
}

/** True when `password` matches `stored`; false for a wrong password or a hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const expected = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(actual, expected);
}
