/**
 * Key templates ("USER#{id}", "{createdAt}#{id}") compiled once per entity and rendered from entity values.
 *
 * The placeholder rule, the same in every key of every entity (primary keys, index keys, begins_with prefixes),
 * chosen so that sort keys sort correctly as strings:
 * - integer and bigint: non-negative values zero-padded to 20 digits (42 -> "00000000000000000042"); negative values
 *   '-' then 10^20 - |v| zero-padded to 20 digits (-1 -> "-99999999999999999999"), so negatives sort before
 *   positives and among themselves, for every signed or unsigned 64-bit value;
 * - decimal: all of the column's digits at its scale, zero-padded ("10.50" in decimal(10,2) -> "00000010.50";
 *   negative values '-' then 10^precision - |v| the same way), so that they sort as numbers;
 * - float: its shortest exact digits (does not sort numerically either);
 * - datetime, date, time: their ISO text ("2026-01-02T03:04:05.123Z", fixed width per column, so they sort);
 * - boolean: "true" / "false";
 * - string and enum: as they are;
 * - json, set, binary and geometry cannot be in keys (the contract check forbids it).
 */

import { parseKeyTemplate } from "@ferry/contract";
import type { AttributeCodec } from "./attribute.ts";
import { CodecError } from "./errors.ts";

/** A template's pieces: literal text, or the attribute a placeholder names. */
export type TemplatePiece = string | AttributeCodec;

export interface CompiledTemplate {
  readonly template: string;
  readonly pieces: readonly TemplatePiece[];
  /** The attributes the placeholders name, in order. */
  readonly placeholders: readonly string[];
}

/** Parses a template against an entity's attributes; CodecError for a malformed template or an unknown attribute. */
export function compileTemplate(
  entity: string,
  template: string,
  attributes: ReadonlyMap<string, AttributeCodec>,
): CompiledTemplate {
  let parts: ReturnType<typeof parseKeyTemplate>;
  try {
    parts = parseKeyTemplate(template);
  } catch (error) {
    throw new CodecError(entity, undefined, `key template '${template}' is malformed`, { cause: error });
  }
  const pieces: TemplatePiece[] = [];
  const placeholders: string[] = [];
  for (const part of parts) {
    if ("literal" in part) {
      pieces.push(part.literal);
      continue;
    }
    const attribute = attributes.get(part.placeholder);
    if (!attribute) {
      throw new CodecError(
        entity,
        part.placeholder,
        `key template '${template}' names an attribute that does not exist`,
      );
    }
    if (!attribute.keyable) {
      throw new CodecError(
        entity,
        part.placeholder,
        `a ${attribute.type} attribute cannot be part of a key ('${template}')`,
      );
    }
    pieces.push(attribute);
    placeholders.push(part.placeholder);
  }
  return { template, pieces, placeholders };
}

/**
 * Renders a template from a value. A placeholder without a value (null or undefined) is a CodecError naming it,
 * or with `prefixOnly`, where the rendering stops: the literal prefix for begins_with.
 */
export function renderTemplate(
  entity: string,
  compiled: CompiledTemplate,
  value: Readonly<Record<string, unknown>>,
  prefixOnly = false,
): string {
  let text = "";
  for (const piece of compiled.pieces) {
    if (typeof piece === "string") {
      text += piece;
      continue;
    }
    const given = value[piece.name];
    if (given === undefined || given === null) {
      if (prefixOnly) return text;
      throw new CodecError(entity, piece.name, `has no value, and key '${compiled.template}' needs it`);
    }
    text += piece.keyText(given);
  }
  return text;
}

/** Whether every placeholder of the templates has a value (a sparse index key is written only then). */
export function hasPlaceholders(
  value: Readonly<Record<string, unknown>>,
  ...templates: ReadonlyArray<CompiledTemplate | undefined>
): boolean {
  for (const compiled of templates) {
    if (!compiled) continue;
    for (const name of compiled.placeholders) {
      const given = value[name];
      if (given === undefined || given === null) return false;
    }
  }
  return true;
}
