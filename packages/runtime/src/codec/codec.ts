/**
 * The codec: the row <-> item mapping, defined by the contract and implemented once (docs/architecture.md, "The
 * codec"). Generated repositories, the dual write, the outbox's replays and shadow reads all convert through it, so
 * keys and values cannot drift between them. Everything is compiled in createCodec: per call there is
 * no template parsing and no type lookup.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type Contract,
  type Entity,
  identityAttributes,
  type KeyTemplates,
  keyTemplatePlaceholders,
} from "@ferry/contract";
import { AttributeCodec } from "./attribute.ts";
import { CodecError } from "./errors.ts";
import { type CompiledTemplate, compileTemplate, hasPlaceholders, renderTemplate } from "./key.ts";

/** An entity's value: attribute name -> TypeScript value (null for SQL NULL). */
export type EntityValue = Record<string, unknown>;

/** A DynamoDB item or key, as @aws-sdk/client-dynamodb takes and returns it (not lib-dynamodb's marshalling). */
export type Item = Record<string, AttributeValue>;

/** The attribute every item carries with its entity's name, so mixed item collections can be told apart. */
export const ENTITY_ATTRIBUTE = "__entity";

/** One field that differs between two values, in normalised form. */
export interface FieldDiff {
  field: string;
  left: string | null;
  right: string | null;
}

export interface RenderOptions {
  /** Stop at the first placeholder without a value and return the text so far (for begins_with). */
  prefixOnly?: boolean;
}

/** The names of the attributes a key is written to (the table's or an index's). */
export interface KeyAttributeNames {
  partition: string;
  sort?: string;
}

/**
 * One entity's conversions. `T` is the entity's value type (generated code passes its interface); it defaults to a
 * plain record.
 */
export interface EntityCodec<T extends object = EntityValue> {
  readonly name: string;
  /** The entity as the contract states it. */
  readonly definition: Entity;
  /** Logical name of its DynamoDB table (the physical name adds FERRY_TABLE_PREFIX). */
  readonly table: string;
  /** Its attributes, in contract order. */
  readonly attributes: readonly AttributeCodec[];
  /** Its denormalised copies of other entities' attributes (DynamoDB only). */
  readonly copies: readonly AttributeCodec[];
  /** The names of the primary key attributes ({ partition: "PK", sort: "SK" }). */
  readonly keyNames: KeyAttributeNames;
  /**
   * The attributes that identify an item on both stores: MySQL's primary key, then the key templates' other
   * placeholders (a key names all of them, so that both stores address the same item).
   */
  readonly identity: readonly string[];
  /** Identity attributes that are not in the key templates (MySQL's primary key only): checked, not addressed, on DynamoDB. */
  readonly checkedIdentity: readonly string[];
  /** One attribute's (or denormalised copy's) conversions; CodecError for an unknown name. */
  attribute(name: string): AttributeCodec;
  /** The key attribute names of one of the entity's indexes; CodecError for an index the entity does not use. */
  indexKeyNames(index: string): KeyAttributeNames;

  /**
   * A MySQL row as mysql2 returns it with ferry's connection settings (DECIMAL and BIGINT as strings, DATETIME, DATE
   * and TIME as strings, JSON as text (see mysqlTypeCast) or parsed, BLOB as Buffer, TINYINT as number), keyed by
   * column name -> the entity value keyed by attribute name. Columns missing from the row are missing from the value.
   */
  fromRow(row: Readonly<Record<string, unknown>>): T;
  /**
   * An entity value -> query parameters keyed by column name: strings for DECIMAL and BIGINT,
   * 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) for DATETIME, JSON text, 'a,b' for SET, Buffer for bytes and BIT, 0/1 for
   * booleans, null for null. Attributes that are undefined are left out (so column defaults apply).
   */
  toRow(value: Partial<T>): Record<string, unknown>;
  /**
   * An entity value -> the full DynamoDB item: every attribute (absent when null, or an empty set), the primary key
   * rendered from the key templates, each index's key when all its placeholders have values (sparse otherwise),
   * denormalised copies present in the value, and `__entity`. CodecError when a NOT NULL attribute has no value.
   */
  toItem(value: T): Item;
  /** A DynamoDB item -> the entity value; key and bookkeeping attributes are ignored. */
  fromItem(item: Readonly<Item>): T;
  /** The primary key from a value holding at least the key templates' placeholders. */
  key(value: Partial<T>): Item;
  /** The key of one of the entity's indexes. */
  indexKey(index: string, value: Partial<T>): Item;
  /** Renders a template of this entity (or its prefix, up to the first placeholder without a value). */
  render(template: string, value: Partial<T>, options?: RenderOptions): string;
  /**
   * The canonical comparable form of a value, for shadow reads and validation: each attribute -> a stable string,
   * or null. Denormalised copies are included when the value has them.
   */
  normalize(value: Partial<T>): Record<string, string | null>;
  /** The fields whose normalised forms differ (denormalised copies only when both values have them). */
  diff(left: Partial<T>, right: Partial<T>): FieldDiff[];
  /**
   * What may be shown of values (the contract's `sensitive` attributes concealed as `hidden #<tag>`; see conceal.ts):
   * of diff() results, of a normalize() result, of a value (each sensitive attribute's value replaced by that text).
   * For showing only: compare with diff() and normalize().
   */
  shownDiff(diffs: readonly FieldDiff[]): FieldDiff[];
  shownNormalized(normalized: Readonly<Record<string, string | null>>): Record<string, string | null>;
  shownValue(value: Partial<T>): Partial<T>;
}

export interface Codec {
  readonly contract: Contract;
  /** The entity names, in contract order. */
  readonly entities: readonly string[];
  /** One entity's codec; CodecError for an entity the contract does not have. */
  entity<T extends object = EntityValue>(name: string): EntityCodec<T>;
  /** Which entity an item belongs to (its `__entity` attribute), for item collections holding several. */
  entityOf(item: Readonly<Item>): string | undefined;
}

/** Compiles the contract's entities: attribute conversions and key templates, once. */
export function createCodec(contract: Contract): Codec {
  const codecs = new Map<string, EntityCodecImpl>();
  for (const [name, entity] of Object.entries(contract.entities)) {
    codecs.set(name, new EntityCodecImpl(name, entity, contract));
  }
  const entities = [...codecs.keys()];
  return {
    contract,
    entities,
    entity<T extends object = EntityValue>(name: string): EntityCodec<T> {
      const codec = codecs.get(name);
      if (!codec) {
        throw new CodecError(
          name,
          undefined,
          `is not an entity of contract '${contract.name}' (${entities.join(", ")})`,
        );
      }
      return codec as unknown as EntityCodec<T>;
    },
    entityOf: (item) => item[ENTITY_ATTRIBUTE]?.S,
  };
}

interface CompiledKey {
  readonly index: string | undefined;
  readonly names: KeyAttributeNames;
  readonly partition: CompiledTemplate;
  readonly sort: CompiledTemplate | undefined;
}

class EntityCodecImpl implements EntityCodec<EntityValue> {
  readonly table: string;
  readonly attributes: readonly AttributeCodec[];
  readonly copies: readonly AttributeCodec[];
  readonly keyNames: KeyAttributeNames;
  readonly identity: readonly string[];
  readonly checkedIdentity: readonly string[];
  private readonly columns: ReadonlyArray<readonly [column: string, attribute: AttributeCodec]>;
  private readonly byName = new Map<string, AttributeCodec>();
  private readonly primary: CompiledKey;
  private readonly indexes = new Map<string, CompiledKey>();
  private readonly templates = new Map<string, CompiledTemplate>();

  constructor(
    readonly name: string,
    readonly definition: Entity,
    contract: Contract,
  ) {
    this.table = definition.table;
    const table = contract.tables[definition.table];
    if (!table) throw new CodecError(name, undefined, `its table '${definition.table}' is not in the contract`);

    const reserved = new Set([ENTITY_ATTRIBUTE, table.partitionKey]);
    if (table.sortKey) reserved.add(table.sortKey);
    for (const index of Object.values(table.indexes ?? {})) {
      reserved.add(index.partitionKey);
      if (index.sortKey) reserved.add(index.sortKey);
    }
    const claim = (attribute: string) => {
      if (reserved.has(attribute) || this.byName.has(attribute)) {
        throw new CodecError(name, attribute, "its name is taken by a key attribute, another attribute or __entity");
      }
    };

    const attributes: AttributeCodec[] = [];
    const columns: Array<readonly [string, AttributeCodec]> = [];
    for (const [attributeName, attribute] of Object.entries(definition.attributes)) {
      claim(attributeName);
      const codec = new AttributeCodec(name, attributeName, attribute);
      attributes.push(codec);
      columns.push([attribute.column.name, codec]);
      this.byName.set(attributeName, codec);
    }
    const copies: AttributeCodec[] = [];
    for (const [copyName, copy] of Object.entries(definition.denormalized ?? {})) {
      claim(copyName);
      const source = contract.entities[copy.from]?.attributes[copy.attribute];
      if (!source) {
        throw new CodecError(name, copyName, `copies ${copy.from}.${copy.attribute}, which is not in the contract`);
      }
      const codec = new AttributeCodec(name, copyName, source, { denormalized: true });
      copies.push(codec);
      this.byName.set(copyName, codec);
    }
    this.attributes = attributes;
    this.copies = copies;
    this.columns = columns;

    // Placeholders name the entity's own attributes, never its copies.
    const own = new Map(attributes.map((attribute) => [attribute.name, attribute]));
    const compileKey = (index: string | undefined, names: KeyAttributeNames, templates: KeyTemplates): CompiledKey => {
      const where = index === undefined ? "the table" : `index ${index}`;
      if (names.sort !== undefined && templates.sort === undefined) {
        throw new CodecError(
          name,
          undefined,
          `${where} has a sort key '${names.sort}' and the entity no sort template`,
        );
      }
      if (names.sort === undefined && templates.sort !== undefined) {
        throw new CodecError(name, undefined, `${where} has no sort key for the template '${templates.sort}'`);
      }
      const partition = this.compile(templates.partition, own);
      const sort = templates.sort === undefined ? undefined : this.compile(templates.sort, own);
      return { index, names, partition, sort };
    };
    this.keyNames = table.sortKey
      ? { partition: table.partitionKey, sort: table.sortKey }
      : { partition: table.partitionKey };
    this.primary = compileKey(undefined, this.keyNames, definition.key);
    this.identity = identityAttributes(definition);
    const placeholders = new Set(
      [definition.key.partition, definition.key.sort].flatMap((template) =>
        template === undefined ? [] : keyTemplatePlaceholders(template),
      ),
    );
    this.checkedIdentity = this.identity.filter((attribute) => !placeholders.has(attribute));
    for (const [indexName, templates] of Object.entries(definition.indexes ?? {})) {
      const index = table.indexes?.[indexName];
      if (!index) {
        throw new CodecError(name, undefined, `index '${indexName}' is not an index of table '${definition.table}'`);
      }
      const names = index.sortKey
        ? { partition: index.partitionKey, sort: index.sortKey }
        : { partition: index.partitionKey };
      this.indexes.set(indexName, compileKey(indexName, names, templates));
    }
  }

  private compile(template: string, attributes: ReadonlyMap<string, AttributeCodec>): CompiledTemplate {
    let compiled = this.templates.get(template);
    if (!compiled) {
      compiled = compileTemplate(this.name, template, attributes);
      this.templates.set(template, compiled);
    }
    return compiled;
  }

  attribute(name: string): AttributeCodec {
    const codec = this.byName.get(name);
    if (!codec) throw new CodecError(this.name, name, "is not an attribute of the entity");
    return codec;
  }

  indexKeyNames(index: string): KeyAttributeNames {
    return this.index(index).names;
  }

  private index(index: string): CompiledKey {
    const compiled = this.indexes.get(index);
    if (!compiled) {
      const known = [...this.indexes.keys()];
      throw new CodecError(
        this.name,
        undefined,
        `uses no index '${index}' (its indexes: ${known.join(", ") || "none"})`,
      );
    }
    return compiled;
  }

  fromRow(row: Readonly<Record<string, unknown>>): EntityValue {
    const value: EntityValue = {};
    for (const [column, attribute] of this.columns) {
      const raw = row[column];
      if (raw !== undefined) value[attribute.name] = attribute.fromColumn(raw);
    }
    return value;
  }

  toRow(value: Readonly<EntityValue>): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (const [column, attribute] of this.columns) {
      const given = value[attribute.name];
      if (given !== undefined) row[column] = attribute.toParameter(given);
    }
    return row;
  }

  toItem(value: Readonly<EntityValue>): Item {
    const item: Item = {};
    for (const attribute of this.attributes) {
      const converted = attribute.toAttribute(value[attribute.name]);
      if (converted !== undefined) item[attribute.name] = converted;
    }
    for (const copy of this.copies) {
      const converted = copy.toAttribute(value[copy.name]);
      if (converted !== undefined) item[copy.name] = converted;
    }
    this.writeKey(item, this.primary, value);
    for (const index of this.indexes.values()) {
      if (hasPlaceholders(value, index.partition, index.sort)) this.writeKey(item, index, value);
    }
    item[ENTITY_ATTRIBUTE] = { S: this.name };
    return item;
  }

  /** Writes a key's attributes into `item`. An index key that renders empty is left out (DynamoDB rejects it). */
  private writeKey(item: Item, key: CompiledKey, value: Readonly<EntityValue>): void {
    const partition = renderTemplate(this.name, key.partition, value);
    const sort = key.sort === undefined ? undefined : renderTemplate(this.name, key.sort, value);
    if (partition === "" || sort === "") {
      if (key.index !== undefined) return;
      throw new CodecError(this.name, undefined, "its primary key renders as an empty string", { value: partition });
    }
    item[key.names.partition] = { S: partition };
    if (key.names.sort !== undefined && sort !== undefined) item[key.names.sort] = { S: sort };
  }

  fromItem(item: Readonly<Item>): EntityValue {
    const tag = item[ENTITY_ATTRIBUTE]?.S;
    if (tag !== undefined && tag !== this.name) {
      throw new CodecError(this.name, undefined, `cannot read an item of entity '${tag}'`);
    }
    const value: EntityValue = {};
    for (const attribute of this.attributes) value[attribute.name] = attribute.fromAttribute(item[attribute.name]);
    for (const copy of this.copies) {
      const stored = item[copy.name];
      if (stored !== undefined && stored.NULL !== true) value[copy.name] = copy.fromAttribute(stored);
    }
    return value;
  }

  key(value: Readonly<EntityValue>): Item {
    return this.renderKey(this.primary, value);
  }

  indexKey(index: string, value: Readonly<EntityValue>): Item {
    return this.renderKey(this.index(index), value);
  }

  private renderKey(key: CompiledKey, value: Readonly<EntityValue>): Item {
    const rendered: Item = { [key.names.partition]: { S: renderTemplate(this.name, key.partition, value) } };
    if (key.sort && key.names.sort !== undefined) {
      rendered[key.names.sort] = { S: renderTemplate(this.name, key.sort, value) };
    }
    return rendered;
  }

  render(template: string, value: Readonly<EntityValue>, options: RenderOptions = {}): string {
    return renderTemplate(this.name, this.compile(template, this.byName), value, options.prefixOnly === true);
  }

  normalize(value: Readonly<EntityValue>): Record<string, string | null> {
    const normalized: Record<string, string | null> = {};
    for (const attribute of this.attributes) normalized[attribute.name] = attribute.normalize(value[attribute.name]);
    for (const copy of this.copies) {
      if (value[copy.name] !== undefined) normalized[copy.name] = copy.normalize(value[copy.name]);
    }
    return normalized;
  }

  diff(left: Readonly<EntityValue>, right: Readonly<EntityValue>): FieldDiff[] {
    const a = this.normalize(left);
    const b = this.normalize(right);
    const diffs: FieldDiff[] = [];
    for (const attribute of this.attributes) {
      const l = a[attribute.name] ?? null;
      const r = b[attribute.name] ?? null;
      if (l !== r) diffs.push({ field: attribute.name, left: l, right: r });
    }
    for (const copy of this.copies) {
      if (!(copy.name in a) || !(copy.name in b)) continue;
      const l = a[copy.name] ?? null;
      const r = b[copy.name] ?? null;
      if (l !== r) diffs.push({ field: copy.name, left: l, right: r });
    }
    return diffs;
  }

  shownDiff(diffs: readonly FieldDiff[]): FieldDiff[] {
    return diffs.map((diff) => {
      const attribute = this.byName.get(diff.field);
      return attribute?.sensitive
        ? { ...diff, left: attribute.shown(diff.left), right: attribute.shown(diff.right) }
        : diff;
    });
  }

  shownNormalized(normalized: Readonly<Record<string, string | null>>): Record<string, string | null> {
    return Object.fromEntries(
      Object.entries(normalized).map(([field, text]) => [field, this.byName.get(field)?.shown(text ?? null) ?? text]),
    );
  }

  shownValue(value: Readonly<EntityValue>): EntityValue {
    const shown: EntityValue = { ...value };
    for (const attribute of this.attributes) {
      if (attribute.sensitive && value[attribute.name] != null) {
        shown[attribute.name] = attribute.shown(attribute.normalize(value[attribute.name]));
      }
    }
    return shown;
  }
}
