/**
 * Reading a form or a JSON body into checked values: each reader returns the value or records a message for its
 * field, and `done()` throws one 400 with every field's message.
 */
import { invalid } from "../http/errors.ts";
import { parseCents } from "./money.ts";

export type Body = Record<string, unknown>;

/** The highest price a product may have (an order of the most a cart holds still fits the order total's DECIMAL(12,2)). */
const MAX_PRICE_CENTS = 99_999_999n;

export class FormReader {
  readonly errors: Record<string, string> = {};
  constructor(private readonly body: Body) {}

  private raw(field: string): string {
    const value = this.body[field];
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
    return "";
  }

  private fail<T>(field: string, message: string, fallback: T): T {
    this.errors[field] ??= message;
    return fallback;
  }

  /** A text of `min`..`max` characters (trimmed). */
  text(field: string, label: string, options: { min?: number; max: number; pattern?: RegExp; hint?: string }): string {
    const value = this.raw(field).trim();
    const min = options.min ?? 1;
    if (value.length < min) {
      return this.fail(field, min === 1 ? `${label} is required.` : `${label} needs at least ${min} characters.`, "");
    }
    if (value.length > options.max) return this.fail(field, `${label} can be at most ${options.max} characters.`, "");
    if (options.pattern && !options.pattern.test(value)) {
      return this.fail(field, options.hint ?? `${label} is not valid.`, "");
    }
    return value;
  }

  /** An optional text: undefined when left empty. */
  optionalText(field: string, label: string, max: number): string | undefined {
    const value = this.raw(field).trim();
    if (value === "") return undefined;
    if (value.length > max) return this.fail(field, `${label} can be at most ${max} characters.`, undefined);
    return value;
  }

  /** A password as typed (not trimmed). */
  password(field: string, label: string, min = 8): string {
    const value = this.raw(field);
    if (value.length < min) return this.fail(field, `${label} needs at least ${min} characters.`, "");
    if (value.length > 200) return this.fail(field, `${label} can be at most 200 characters.`, "");
    return value;
  }

  email(field: string): string {
    return this.text(field, "Email", {
      max: 255,
      pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
      hint: "Email must look like name@example.com.",
    }).toLowerCase();
  }

  /** A whole number in [min, max]. */
  integer(field: string, label: string, min: number, max: number): number {
    const text = this.raw(field).trim();
    if (!/^-?[0-9]{1,10}$/.test(text)) return this.fail(field, `${label} must be a whole number.`, min);
    const value = Number(text);
    if (value < min || value > max) return this.fail(field, `${label} must be from ${min} to ${max}.`, min);
    return value;
  }

  /** A database id (a positive whole number). */
  id(field: string, label: string): bigint {
    const text = this.raw(field).trim();
    if (!/^[1-9][0-9]{0,18}$/.test(text)) return this.fail(field, `Choose a ${label}.`, 0n);
    return BigInt(text);
  }

  /** A price with at most two decimals, more than zero; returned as stored ("12.50"). */
  price(field: string, label: string): string {
    const value = parseCents(this.raw(field));
    if (value === undefined || value <= 0n) return this.fail(field, `${label} must be an amount like 12.50.`, "0.00");
    if (value > MAX_PRICE_CENTS) return this.fail(field, `${label} can be at most 999,999.99.`, "0.00");
    return `${value / 100n}.${(value % 100n).toString().padStart(2, "0")}`;
  }

  /** An optional price (left empty: undefined), zero or more, at most two decimals; returned as stored ("12.50"). */
  optionalPrice(field: string, label: string): string | undefined {
    if (this.raw(field).trim() === "") return undefined;
    const value = parseCents(this.raw(field));
    if (value === undefined) return this.fail(field, `${label} must be an amount like 12.50.`, undefined);
    if (value > MAX_PRICE_CENTS) return this.fail(field, `${label} can be at most 999,999.99.`, undefined);
    return `${value / 100n}.${(value % 100n).toString().padStart(2, "0")}`;
  }

  /** One of `choices` (left empty: the first). */
  choice<T extends string>(field: string, label: string, choices: readonly T[]): T {
    const value = this.raw(field).trim();
    if (value === "") return choices[0] as T;
    if ((choices as readonly string[]).includes(value)) return value as T;
    return this.fail(field, `${label} must be one of ${choices.join(", ")}.`, choices[0] as T);
  }

  /** A checkbox or flag: "1", "true" or "on" is true; absent or empty false. */
  flag(field: string, label: string): boolean {
    const value = this.raw(field).trim();
    if (value === "" || value === "0" || value === "false") return false;
    if (value === "1" || value === "true" || value === "on") return true;
    return this.fail(field, `${label} must be true or false.`, false);
  }

  /** Records a message for a field (a rule across fields). */
  reject(field: string, message: string): void {
    this.fail(field, message, undefined);
  }

  /** An optional https URL (the pages load images over https only). */
  optionalUrl(field: string, label: string): string | undefined {
    const value = this.optionalText(field, label, 500);
    if (value === undefined) return undefined;
    try {
      if (new URL(value).protocol === "https:") return value;
    } catch {}
    return this.fail(field, `${label} must be an https:// address.`, undefined);
  }

  /** Throws one 400 with every field's message when any field failed. */
  done(): void {
    if (Object.keys(this.errors).length > 0) throw invalid(this.errors);
  }
}

/** A form's values as typed, to show again next to its messages (passwords left out). */
export function typed(body: Body): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "_csrf" || /password|card/i.test(name)) continue;
    if (typeof value === "string") kept[name] = value;
  }
  return kept;
}
