/**
 * The contract's cross-reference rules, beyond what the JSON Schema can say: names that must exist, key templates
 * that must fit their entity and table, parameters that must match, attribute types that must fit their columns,
 * and entities that must not be able to overwrite each other's items.
 */

import { type ContractPath, type ContractProblem, formatPath } from "./issues.ts";
import {
  formatKeyTemplate,
  KeyTemplateError,
  type KeyTemplatePart,
  keyTemplatePlaceholders,
  parseKeyTemplate,
  templatesCanCollide,
} from "./key-template.ts";
import type { Loose } from "./loose.ts";
import type { AttributeType, Contract, DynamoIndex, DynamoTable, Entity, KeyTemplates } from "./model.ts";
import { allowedAttributeTypes, parseSqlType } from "./sql-types.ts";
import { didYouMean } from "./suggest.ts";
import { checkTransaction } from "./transaction-rules.ts";

type LooseEntity = Loose<Entity>;
type LooseTemplates = Loose<KeyTemplates>;

/** Attribute types that cannot be written into a string key. */
const NOT_IN_KEYS: ReadonlySet<AttributeType> = new Set(["json", "set", "binary", "geometry"]);

function entries<T>(record: { [name: string]: T | undefined } | undefined): Array<[string, T]> {
  if (!record) return [];
  return Object.entries(record).filter((entry): entry is [string, T] => entry[1] !== undefined);
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}

/** "OrderItem" -> "ORDER_ITEM". */
function upperSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
}

/** Checks the cross-references of a contract; the problems come in the order of the contract's parts. */
export function checkContractRules(contract: Loose<Contract>): ContractProblem[] {
  return new RuleCheck(contract).run();
}

class RuleCheck {
  private readonly problems: ContractProblem[] = [];
  private readonly tables: { [name: string]: Loose<DynamoTable> | undefined };
  private readonly entities: { [name: string]: LooseEntity | undefined };
  /** Templates that parse and name only attributes, by path. */
  private readonly parsed = new Map<string, KeyTemplatePart[]>();

  constructor(private readonly contract: Loose<Contract>) {
    this.tables = contract.tables ?? {};
    this.entities = contract.entities ?? {};
  }

  run(): ContractProblem[] {
    // Templates first: the other rules use only the templates that parse and name attributes.
    for (const [name, entity] of entries(this.entities)) {
      if (entity.key) this.checkTemplates(name, entity, entity.key, ["entities", name, "key"], true);
      for (const [indexName, templates] of entries(entity.indexes)) {
        this.checkTemplates(name, entity, templates, ["entities", name, "indexes", indexName], false);
      }
    }
    for (const [name, entity] of entries(this.entities)) this.checkEntity(name, entity);
    this.checkCollisions();
    for (const [name, pattern] of entries(this.contract.accessPatterns)) this.checkAccessPattern(name, pattern);
    for (const [name, transaction] of entries(this.contract.transactions)) {
      for (const [i, entityName] of (transaction.entities ?? []).entries()) {
        if (entityName !== undefined) this.entityRef(entityName, ["transactions", name, "entities", i]);
      }
      checkTransaction(
        {
          report: (path, message, extra) => this.report(path, message, extra),
          entityRef: (entityName, path) => this.entityRef(entityName, path),
          attributeRef: (entityName, entity, attribute, path) => this.attributeRef(entityName, entity, attribute, path),
        },
        name,
        transaction,
      );
    }
    return this.problems;
  }

  private report(path: ContractPath, message: string, extra: Omit<ContractProblem, "path" | "message"> = {}): void {
    this.problems.push({ path, message, ...extra });
  }

  /** The named entity, or undefined after reporting an unknown name. */
  private entityRef(name: string, path: ContractPath): LooseEntity | undefined {
    const entity = this.entities[name];
    if (entity) return entity;
    this.report(
      path,
      `unknown entity '${name}' in ${formatPath(path)}${didYouMean(name, Object.keys(this.entities))}`,
      {
        hint: `entities: ${listOrNone(Object.keys(this.entities))}`,
      },
    );
    return undefined;
  }

  /** Reports an attribute name that is not one of `entity`'s; true when it is. */
  private attributeRef(
    entityName: string,
    entity: LooseEntity,
    attribute: string,
    path: ContractPath,
    target: "value" | "key" = "value",
    offset?: number,
  ): boolean {
    const names = Object.keys(entity.attributes ?? {});
    if (names.includes(attribute)) return true;
    this.report(
      path,
      `unknown attribute '${attribute}' of ${entityName} in ${formatPath(path)}${didYouMean(attribute, names)}`,
      { target, hint: `${entityName}'s attributes: ${listOrNone(names)}`, ...(offset === undefined ? {} : { offset }) },
    );
    return false;
  }

  /** Parses a template, reporting a malformed one. */
  private parseTemplate(template: string, path: ContractPath): KeyTemplatePart[] | undefined {
    try {
      return parseKeyTemplate(template);
    } catch (error) {
      if (!(error instanceof KeyTemplateError)) throw error;
      this.report(path, `${error.message} in key template '${template}' (${formatPath(path)})`, {
        offset: error.offset,
        ...(error.hint ? { hint: error.hint } : {}),
      });
      return undefined;
    }
  }

  /** The checked template at a path: undefined when absent, malformed, or naming something that is not an attribute. */
  private template(path: ContractPath): KeyTemplatePart[] | undefined {
    return this.parsed.get(JSON.stringify(path));
  }

  private checkEntity(name: string, entity: LooseEntity): void {
    const base = ["entities", name];
    const attributes = entity.attributes ?? {};

    for (const [attributeName, attribute] of entries(attributes)) {
      const column = attribute.column;
      if (attribute.type === undefined || column?.sqlType === undefined) continue;
      const allowed = allowedAttributeTypes({ sqlType: column.sqlType, json: column.json });
      const columnName = column.name ?? attributeName;
      if (allowed.length === 0) {
        const readable = parseSqlType(column.sqlType) !== undefined;
        this.report(
          [...base, "attributes", attributeName, "column", "sqlType"],
          `${readable ? "unknown" : "unreadable"} SQL type '${column.sqlType}' of column '${columnName}' in ${formatPath([...base, "attributes", attributeName])}`,
          {
            hint: readable
              ? "ferry maps MySQL's integer, decimal, float, string, date/time, enum, set, json, binary and geometry types"
              : "write the type as MySQL prints it, e.g. decimal(10,2) or enum('a','b'); quote it inside { ... }",
          },
        );
      } else if (!allowed.includes(attribute.type)) {
        this.report(
          [...base, "attributes", attributeName, "type"],
          `type '${attribute.type}' does not fit column '${columnName}' (${column.sqlType}) in ${formatPath([...base, "attributes", attributeName])}`,
          { hint: `use ${allowed.map((type, i) => (i === 0 ? `${type} (the default)` : type)).join(" or ")}` },
        );
      }
    }

    const table = entity.table === undefined ? undefined : this.tables[entity.table];
    if (entity.table !== undefined && !table) {
      this.report(
        [...base, "table"],
        `unknown table '${entity.table}' in ${formatPath([...base, "table"])}${didYouMean(entity.table, Object.keys(this.tables))}`,
        { hint: `tables: ${listOrNone(Object.keys(this.tables))}` },
      );
    }

    if (entity.key) {
      if (table) this.checkKeyShape(entity.key, table, `table '${entity.table}'`, [...base, "key"]);
    }

    for (const [indexName, templates] of entries(entity.indexes)) {
      const path = [...base, "indexes", indexName];
      const index = table?.indexes?.[indexName];
      if (table && !index) {
        const known = Object.keys(table.indexes ?? {});
        this.report(
          path,
          `unknown index '${indexName}' of table '${entity.table}' in ${formatPath([...base, "indexes"])}${didYouMean(indexName, known)}`,
          { target: "key", hint: `table '${entity.table}' has indexes: ${listOrNone(known)}` },
        );
      }
      if (index) this.checkKeyShape(templates, index, `index '${indexName}'`, path);
    }

    for (const [rule, unique] of entries(entity.unique)) {
      for (const [i, attribute] of (unique.attributes ?? []).entries()) {
        if (attribute !== undefined)
          this.attributeRef(name, entity, attribute, [...base, "unique", rule, "attributes", i]);
      }
    }

    if (entity.parent) this.checkParent(name, entity);
    this.checkWordIndexes(name, entity);

    for (const [copy, denormalized] of entries(entity.denormalized)) {
      const path = [...base, "denormalized", copy];
      if (denormalized.from !== undefined) {
        const from = this.entityRef(denormalized.from, [...path, "from"]);
        if (from && denormalized.attribute !== undefined) {
          this.attributeRef(denormalized.from, from, denormalized.attribute, [...path, "attribute"]);
        }
      }
      if (denormalized.via !== undefined) this.attributeRef(name, entity, denormalized.via, [...path, "via"]);
    }

    if (entity.id?.attribute !== undefined)
      this.attributeRef(name, entity, entity.id.attribute, [...base, "id", "attribute"]);
    this.checkSensitive(name, entity);
  }

  /**
   * A sensitive attribute is never shown, so it cannot be where its value would be: in a key (the primary key's
   * columns, a key template of the table or an index), a unique rule (its marker's key), a word index (its words) or
   * another entity's denormalised copy.
   */
  private checkSensitive(name: string, entity: LooseEntity): void {
    const sensitive = entries(entity.attributes).filter(([, attribute]) => attribute.sensitive === true);
    if (sensitive.length === 0) return;
    const uses = new Map<string, string>();
    const use = (attribute: string | undefined, where: string) => {
      if (attribute !== undefined && !uses.has(attribute)) uses.set(attribute, where);
    };
    const byColumn = new Map(entries(entity.attributes).map(([attribute, spec]) => [spec.column?.name, attribute]));
    for (const column of entity.source?.primaryKey ?? []) use(byColumn.get(column), "the primary key");
    const templates: Array<[string, LooseTemplates | undefined]> = [
      ["the item's key", entity.key],
      ...entries(entity.indexes).map(([index, keys]): [string, LooseTemplates] => [`index ${index}'s key`, keys]),
    ];
    for (const [where, keys] of templates) {
      for (const template of [keys?.partition, keys?.sort]) {
        if (template === undefined) continue;
        try {
          for (const placeholder of keyTemplatePlaceholders(template)) use(placeholder, where);
        } catch {
          // A malformed template is reported by checkTemplates.
        }
      }
    }
    for (const [rule, unique] of entries(entity.unique)) {
      for (const attribute of unique.attributes ?? []) use(attribute, `unique rule ${rule}`);
    }
    for (const [index, words] of entries(entity.wordIndexes)) use(words.attribute, `word index ${index}`);
    for (const [other, spec] of entries(this.entities)) {
      for (const [copy, denormalized] of entries(spec.denormalized)) {
        if (denormalized.from === name) use(denormalized.attribute, `${other}'s copy ${copy}`);
      }
    }
    for (const [attribute] of sensitive) {
      const where = uses.get(attribute);
      if (where === undefined) continue;
      this.report(
        ["entities", name, "attributes", attribute, "sensitive"],
        `sensitive attribute '${attribute}' of ${name} is in ${where}, where its value would show`,
        { hint: "a secret cannot be a key, unique, searched by words or copied; drop `sensitive` or that use of it" },
      );
    }
  }

  /** Placeholders must name attributes that can be written into a key (and, in the primary key, are never null). */
  private checkTemplates(
    entityName: string,
    entity: LooseEntity,
    templates: LooseTemplates,
    path: ContractPath,
    primary: boolean,
  ): void {
    for (const which of ["partition", "sort"] as const) {
      const templatePath = [...path, which];
      const template = templates[which];
      if (template === undefined) continue;
      const parts = this.parseTemplate(template, templatePath);
      let usable = parts !== undefined;
      for (const part of parts ?? []) {
        if (!("placeholder" in part)) continue;
        if (!this.attributeRef(entityName, entity, part.placeholder, templatePath, "value", part.offset)) {
          usable = false;
          continue;
        }
        const attribute = entity.attributes?.[part.placeholder];
        if (attribute?.type !== undefined && NOT_IN_KEYS.has(attribute.type)) {
          this.report(
            templatePath,
            `attribute '${part.placeholder}' (${attribute.type}) cannot be part of a key (${formatPath(templatePath)})`,
            {
              offset: part.offset,
              hint: "keys are strings: use string, number, date/time, enum or boolean attributes",
            },
          );
        } else if (primary && attribute?.column?.nullable === true) {
          this.report(
            templatePath,
            `attribute '${part.placeholder}' can be null and cannot be part of the primary key (${formatPath(templatePath)})`,
            {
              offset: part.offset,
              hint: "every item needs its key; use it in an index key instead (items without it stay out of the index)",
            },
          );
        }
      }
      if (usable && parts) this.parsed.set(JSON.stringify(templatePath), parts);
    }
  }

  /** An entity's key has a sort template exactly when its table (or index) has a sort key. */
  private checkKeyShape(
    templates: LooseTemplates,
    keyed: Loose<DynamoTable> | Loose<DynamoIndex>,
    what: string,
    path: ContractPath,
  ): void {
    if (keyed.sortKey !== undefined && templates.sort === undefined) {
      this.report(path, `missing sort template in ${formatPath(path)}: ${what} has a sort key (${keyed.sortKey})`, {
        hint: "add `sort:` with a template, e.g. a constant like PROFILE or ORDER#{createdAt}",
      });
    } else if (keyed.sortKey === undefined && templates.sort !== undefined) {
      this.report([...path, "sort"], `${what} has no sort key, so ${formatPath(path)} cannot have a sort template`, {
        target: "key",
        hint: "remove `sort:`, or give the table (index) a sortKey",
      });
    }
  }

  private checkParent(name: string, entity: LooseEntity): void {
    const parent = entity.parent;
    if (!parent) return;
    const path = ["entities", name, "parent"];
    let parentEntity: LooseEntity | undefined;
    if (parent.entity !== undefined) {
      if (parent.entity === name) {
        this.report([...path, "entity"], `${name} cannot be its own parent`);
      } else {
        parentEntity = this.entityRef(parent.entity, [...path, "entity"]);
      }
    }
    let mapped = true;
    for (const [own, theirs] of entries(parent.attributes)) {
      mapped = this.attributeRef(name, entity, own, [...path, "attributes", own], "key") && mapped;
      if (parentEntity && parent.entity !== undefined) {
        mapped = this.attributeRef(parent.entity, parentEntity, theirs, [...path, "attributes", own]) && mapped;
      }
    }
    if (!parentEntity || parent.entity === undefined) return;
    const [ours, theirs] = [entity.table, parentEntity.table];
    const tablesKnown = ours !== undefined && theirs !== undefined && this.tables[ours] && this.tables[theirs];
    if (tablesKnown && ours !== theirs) {
      this.report(
        [...path, "entity"],
        `parent ${parent.entity} lives on table '${parentEntity.table}', not '${entity.table}' (${formatPath(path)})`,
        { hint: "an item collection is one partition of one table: put both entities on the same table" },
      );
      return;
    }
    // The child's partition key is the parent's, with the parent's attributes renamed to the child's.
    if (!mapped || !parent.attributes) return;
    const parentPartition = this.template(["entities", parent.entity, "key", "partition"]);
    const ownPartition = this.template(["entities", name, "key", "partition"]);
    if (!parentPartition || !ownPartition) return;
    const renames = new Map(entries(parent.attributes).map(([own, other]) => [other, own]));
    const unmapped = parentPartition.flatMap((part) =>
      "placeholder" in part && !renames.has(part.placeholder) ? [part.placeholder] : [],
    );
    if (unmapped.length > 0) {
      this.report(
        [...path, "attributes"],
        `${formatPath([...path, "attributes"])} maps nothing to ${parent.entity}.${unmapped.join(`, ${parent.entity}.`)}, which ${parent.entity}'s partition key uses`,
        {
          hint: `map the attribute of ${name} that holds it, e.g. { ${lowerFirst(parent.entity)}Id: ${unmapped[0] ?? "id"} }`,
        },
      );
      return;
    }
    const expected = formatKeyTemplate(
      parentPartition.map((part) =>
        "placeholder" in part ? { placeholder: renames.get(part.placeholder) ?? part.placeholder, offset: 0 } : part,
      ),
    );
    if (formatKeyTemplate(ownPartition) !== expected) {
      this.report(
        ["entities", name, "key", "partition"],
        `${name} is in ${parent.entity}'s item collection, so its partition key must be ${parent.entity}'s: '${expected}'`,
        {
          hint: `${parent.entity}'s partition key is '${parentEntity.key?.partition ?? ""}'; parent.attributes renames its placeholders`,
        },
      );
    }
  }

  /** Two entities on one table must not be able to produce the same primary key (they would overwrite each other). */
  private checkCollisions(): void {
    const byTable = new Map<string, Array<[string, LooseEntity]>>();
    for (const [name, entity] of entries(this.entities)) {
      if (entity.table === undefined || !this.tables[entity.table] || !entity.key) continue;
      byTable.set(entity.table, [...(byTable.get(entity.table) ?? []), [name, entity]]);
    }
    for (const [table, list] of byTable) {
      for (const [j, [name, entity]] of list.entries()) {
        const partition = this.template(["entities", name, "key", "partition"]);
        const sort = this.template(["entities", name, "key", "sort"]);
        if (!partition || (entity.key?.sort !== undefined && !sort)) continue;
        for (const [otherName, other] of list.slice(0, j)) {
          const otherPartition = this.template(["entities", otherName, "key", "partition"]);
          const otherSort = this.template(["entities", otherName, "key", "sort"]);
          if (!otherPartition || (other.key?.sort !== undefined && !otherSort)) continue;
          const a = formatKeyTemplate(partition);
          const b = formatKeyTemplate(otherPartition);
          const sortA = sort ? formatKeyTemplate(sort) : undefined;
          const sortB = otherSort ? formatKeyTemplate(otherSort) : undefined;
          if (!templatesCanCollide(a, b) || !templatesCanCollide(sortA, sortB)) continue;
          const hint = collisionHint([name, partition, sort], [otherName, otherPartition, otherSort]);
          const key = (p: string, s: string | undefined) => (s === undefined ? `'${p}'` : `'${p}' / '${s}'`);
          this.report(
            ["entities", name, "key"],
            `${name}'s key ${key(a, sortA)} can produce the same primary key as ${otherName}'s ${key(b, sortB)} on table '${table}'`,
            { hint },
          );
          break;
        }
      }
    }
  }

  private checkAccessPattern(name: string, pattern: Loose<NonNullable<Contract["accessPatterns"]>[string]>): void {
    const base = ["accessPatterns", name];
    const entity = pattern.entity === undefined ? undefined : this.entityRef(pattern.entity, [...base, "entity"]);
    const entityName = pattern.entity ?? "";
    const dynamodb = pattern.dynamodb;
    const operation = dynamodb?.operation;

    if (operation === "unsupported" && dynamodb?.reason === undefined) {
      this.report([...base, "dynamodb"], `missing property 'reason' in ${formatPath([...base, "dynamodb"])}`, {
        hint: "say why DynamoDB cannot serve this pattern (operation: unsupported)",
      });
    } else if (operation !== undefined && operation !== "unsupported" && dynamodb?.reason !== undefined) {
      this.report([...base, "dynamodb", "reason"], `'reason' is only for unsupported patterns, not ${operation}`, {
        target: "key",
        hint: "move the explanation to `notes`, or remove it",
      });
    }

    const table = entity?.table === undefined ? undefined : this.tables[entity.table];
    if (dynamodb?.index !== undefined && operation !== undefined) {
      const path = [...base, "dynamodb", "index"];
      if (operation !== "Query" && operation !== "UpdateItem" && operation !== "DeleteItem") {
        this.report(path, `'index' only applies to Query, UpdateItem and DeleteItem, not ${operation}`, {
          target: "key",
          hint: "GetItem and PutItem use the table's primary key; to read by an index, use Query",
        });
      } else if (entity && table) {
        const known = Object.keys(table.indexes ?? {});
        if (!known.includes(dynamodb.index)) {
          this.report(
            path,
            `unknown index '${dynamodb.index}' of table '${entity.table}' in ${formatPath(path)}${didYouMean(dynamodb.index, known)}`,
            { hint: `table '${entity.table}' has indexes: ${listOrNone(known)}` },
          );
        } else if (!entity.indexes?.[dynamodb.index]) {
          this.report(path, `${entityName} has no key templates for index '${dynamodb.index}' (${formatPath(path)})`, {
            hint: `add entities.${entityName}.indexes.${dynamodb.index} with partition (and sort) templates`,
          });
        }
      }
    }
    if (dynamodb?.order !== undefined && operation !== undefined && operation !== "Query") {
      this.report([...base, "dynamodb", "order"], `'order' only applies to Query, not ${operation}`, { target: "key" });
    }

    if (!entity) return;
    const parameters = pattern.parameters ?? {};
    for (const [parameter, type] of entries(parameters)) {
      const path = [...base, "parameters", parameter];
      if (!this.attributeRef(entityName, entity, parameter, path, "key")) continue;
      const attributeType = entity.attributes?.[parameter]?.type;
      if (attributeType !== undefined && type !== attributeType) {
        this.report(path, `parameter '${parameter}' is ${type} but ${entityName}.${parameter} is ${attributeType}`, {
          hint: "a parameter has the type of the attribute it names",
        });
      }
    }

    this.checkFilters(name, pattern, entityName, entity);
    this.checkWordSearch(name, pattern, entityName, entity);
    // A search reads the word index's items, not the entity's key: no key parameters to check.
    if (dynamodb?.wordIndex !== undefined) return;

    if (operation !== "GetItem" && operation !== "Query") return;
    const templates = dynamodb?.index === undefined ? entity.key : entity.indexes?.[dynamodb.index];
    if (!templates || (operation === "GetItem" && dynamodb?.index !== undefined)) return;
    const keyPath =
      dynamodb?.index === undefined
        ? ["entities", entityName, "key"]
        : ["entities", entityName, "indexes", dynamodb.index];
    const which = operation === "GetItem" ? (["partition", "sort"] as const) : (["partition"] as const);
    const missing: string[] = [];
    for (const part of which) {
      if (templates[part] !== undefined && !this.template([...keyPath, part])) return; // reported with the template
      const parts = this.template([...keyPath, part]);
      for (const piece of parts ?? []) {
        if ("placeholder" in piece && !(piece.placeholder in parameters) && !missing.includes(piece.placeholder)) {
          missing.push(piece.placeholder);
        }
      }
    }
    if (missing.length > 0) {
      const used = which.flatMap((part) => (templates[part] === undefined ? [] : [`'${templates[part]}'`])).join(" / ");
      this.report(
        pattern.parameters ? [...base, "parameters"] : base,
        `${operation} ${name} needs ${missing.length === 1 ? "parameter" : "parameters"} ${missing.map((p) => `'${p}'`).join(", ")} for the key ${used}`,
        {
          hint: `add ${missing.map((p) => `${p}: ${entity.attributes?.[p]?.type ?? "string"}`).join(", ")} to parameters`,
        },
      );
    }
  }

  /**
   * Word indexes: on a string attribute with a _ci collation (the words are folded as it compares them, so that MySQL's
   * rows found by LIKE are never fewer than DynamoDB's), of an entity with a one-column integer primary key (the order
   * of search results on both stores).
   */
  private checkWordIndexes(name: string, entity: LooseEntity): void {
    const count = Object.keys(entity.wordIndexes ?? {}).length;
    if (count > MAX_WORD_INDEXES) {
      // A rename swaps up to 20 words out and 20 in per index, in the item's one transaction (at most 100 items).
      this.report(
        ["entities", name, "wordIndexes"],
        `${name} has ${count} word indexes; at most ${MAX_WORD_INDEXES} fit in one transaction`,
        {
          target: "key",
        },
      );
    }
    for (const [index, wordIndex] of entries(entity.wordIndexes)) {
      const path = ["entities", name, "wordIndexes", index, "attribute"];
      if (wordIndex.attribute === undefined || !this.attributeRef(name, entity, wordIndex.attribute, path)) continue;
      const attribute = entity.attributes?.[wordIndex.attribute];
      if (attribute?.type !== "string" || attribute.column?.json === true) {
        this.report(
          path,
          `a word index needs a string attribute, and ${name}.${wordIndex.attribute} is ${attribute?.type}`,
          {
            hint: "index the words of a text attribute",
          },
        );
      } else if (!attribute.column?.collation?.endsWith("_ci")) {
        this.report(
          path,
          `a word index needs a case-insensitive (_ci) column, and ${name}.${wordIndex.attribute} is not`,
          {
            hint: "words are folded as a _ci collation compares them, so that both stores find the same items",
          },
        );
      }
      const primaryKey = entity.source?.primaryKey ?? [];
      const keyType = Object.values(entity.attributes ?? {}).find(
        (a) => a?.column?.name !== undefined && a.column.name === primaryKey[0],
      )?.type;
      if (primaryKey.length !== 1 || (keyType !== "integer" && keyType !== "bigint")) {
        this.report(
          ["entities", name, "wordIndexes", index],
          `a word index needs a one-column integer primary key, which ${name} does not have`,
          {
            target: "key",
            hint: "search results come in primary-key order on both stores",
          },
        );
      }
    }
  }

  /** The access pattern of a search: a Query of a word index of the entity, by its one string parameter. */
  private checkWordSearch(
    name: string,
    pattern: Loose<NonNullable<Contract["accessPatterns"]>[string]>,
    entityName: string,
    entity: LooseEntity,
  ): void {
    const wordIndex = pattern.dynamodb?.wordIndex;
    if (wordIndex === undefined) return;
    const path = ["accessPatterns", name, "dynamodb", "wordIndex"];
    if (
      pattern.dynamodb?.operation !== "Query" ||
      pattern.dynamodb.index !== undefined ||
      (pattern.returns ?? "many") !== "many"
    ) {
      this.report(path, `'wordIndex' is for a Query that returns many, without 'index' (${formatPath(path)})`, {
        target: "key",
        hint: "a search reads the word index's own items: operation: Query, returns: many, no index",
      });
      return;
    }
    const known = Object.keys(entity.wordIndexes ?? {});
    const defined = entity.wordIndexes?.[wordIndex];
    if (!defined) {
      this.report(path, `${entityName} has no word index '${wordIndex}'${didYouMean(wordIndex, known)}`, {
        hint: `add entities.${entityName}.wordIndexes.${wordIndex} with the attribute it indexes`,
      });
      return;
    }
    const parameters = Object.keys(pattern.parameters ?? {});
    if (parameters.length !== 1 || parameters[0] !== defined.attribute) {
      this.report(
        ["accessPatterns", name, "parameters"],
        `a search by word index '${wordIndex}' takes one parameter, '${defined.attribute}'`,
        {
          hint: `parameters: { ${defined.attribute}: string }: the words searched for`,
        },
      );
    }
    if (pattern.filters !== undefined) {
      this.report(["accessPatterns", name, "filters"], "a search takes no filters", { target: "key" });
    }
  }

  /** A listing's filters: Query returning many, each on an attribute with a column, its argument not a parameter's name. */
  private checkFilters(
    name: string,
    pattern: Loose<NonNullable<Contract["accessPatterns"]>[string]>,
    entityName: string,
    entity: LooseEntity,
  ): void {
    const filters = pattern.filters;
    if (filters === undefined) return;
    const base = ["accessPatterns", name, "filters"];
    if (pattern.dynamodb?.operation !== "Query" || (pattern.returns ?? "many") !== "many") {
      this.report(base, `filters only apply to a Query that returns many (${formatPath(base)})`, {
        target: "key",
        hint: "remove `filters`, or make the pattern a listing (operation: Query, returns: many)",
      });
      return;
    }
    for (const [argument, filter] of entries(filters)) {
      const path = [...base, argument];
      if (argument in (pattern.parameters ?? {})) {
        this.report(path, `filter '${argument}' has the name of a parameter of ${name}`, {
          target: "key",
          hint: `filters are optional arguments beside the parameters: give it another name, e.g. min${argument.charAt(0).toUpperCase()}${argument.slice(1)}`,
        });
      }
      if (filter.attribute === undefined) continue;
      if (!this.attributeRef(entityName, entity, filter.attribute, [...path, "attribute"])) continue;
      const attribute = entity.attributes?.[filter.attribute];
      const type = attribute?.type;
      if (type !== undefined && !FILTERABLE.has(type)) {
        this.report(
          [...path, "attribute"],
          `a ${type} attribute cannot be filtered on (${formatPath([...path, "attribute"])})`,
          {
            hint: "filter on an integer, bigint, decimal, date or datetime attribute: both stores order those alike",
          },
        );
      }
      if (attribute?.column === undefined) {
        this.report([...path, "attribute"], `'${filter.attribute}' has no MySQL column to filter on`, {
          hint: "filter on an attribute of the MySQL table: a denormalised copy lives on DynamoDB only",
        });
      }
    }
  }
}

/** Word indexes an entity may have: a rename of each swaps up to 40 word items in the item's transaction. */
const MAX_WORD_INDEXES = 2;

type KeyParts = [name: string, partition: KeyTemplatePart[], sort: KeyTemplatePart[] | undefined];

/**
 * The attribute types a listing's filter may compare: those both stores order alike (exact numbers, and dates and
 * datetimes as fixed-width text). Text compares by collation on MySQL and by bytes on DynamoDB; floats are inexact.
 */
const FILTERABLE = new Set(["integer", "bigint", "decimal", "datetime", "date"]);

/**
 * "give one of them a distinct literal prefix, e.g. 'ORDER#{id}' for Order's partition key": on the sort keys when
 * the partition keys are the same (one item collection), for the entity whose template has no literal prefix (else
 * the later one), when the example does tell them apart.
 */
function collisionHint(later: KeyParts, earlier: KeyParts): string {
  const advice = "give one of them a distinct literal prefix";
  const inSort = formatKeyTemplate(later[1]) === formatKeyTemplate(earlier[1]);
  const which = inSort ? 2 : 1;
  const bare = (parts: KeyTemplatePart[] | undefined) => parts === undefined || "placeholder" in (parts[0] ?? {});
  const [name, change, other] =
    bare(earlier[which]) && !bare(later[which])
      ? [earlier[0], earlier[which], later[which]]
      : [later[0], later[which], earlier[which]];
  const rest = (change ?? []).filter((part, i) => i > 0 || !("literal" in part));
  const example = formatKeyTemplate([
    { literal: `${upperSnake(name)}${rest.length > 0 ? "#" : ""}`, offset: 0 },
    ...rest,
  ]);
  const otherTemplate = other === undefined ? undefined : formatKeyTemplate(other);
  if (templatesCanCollide(example, otherTemplate)) return advice;
  return `${advice}, e.g. '${example}' for ${name}'s ${inSort ? "sort" : "partition"} key`;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
