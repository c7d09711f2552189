/**
 * The repositories: one class per entity with a method per way DynamoDB serves a read of the contract (GetItem, Query
 * on the table or an index) plus get/create/update/delete by key, all through the runtime's EntityRouter; the `Store`
 * they make up; and createStore(), createMysqlStore() and createDynamoStore(), which call the runtime's routers with
 * the embedded contract. A read by exactly the key is `get`; access patterns served the same way share one method;
 * patterns DynamoDB cannot serve are listed, not generated.
 */
import {
  type AccessPattern,
  type Contract,
  type Entity,
  identityAttributes,
  keyTemplatePlaceholders,
  type ListFilter,
  stepOperation,
  type Transaction,
} from "@ferry/contract";
import {
  type ClassDeclarationStructure,
  type FunctionDeclarationStructure,
  type InterfaceDeclarationStructure,
  type MethodDeclarationStructure,
  type OptionalKind,
  Scope,
  StructureKind,
  type TypeAliasDeclarationStructure,
} from "ts-morph";
import { docText, listOf, lowerFirst, pluralOf, upperFirst, withArticle } from "./prose.ts";
import { valueType } from "./ts-types.ts";

/** Doc text of a top-level declaration, and of a class member or interface property (indented two columns). */
const topDoc = (text: string) => docText(text, 0);
const memberDoc = (text: string) => docText(text, 2);

/** The attributes a key names: the primary key's, then those of the DynamoDB key templates (see identityAttributes). */
export function keyAttributes(entity: Entity): string[] {
  return identityAttributes(entity);
}

const union = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(" | ");
const are = (names: readonly string[], one: string, many: string) => (names.length === 1 ? one : many);

/** What a create may leave out, and what the database (or the id counter) does then, in the type's doc. */
function leftOutOnCreate(entity: Entity) {
  const assigned: string[] = [];
  const computed: string[] = [];
  const defaulted: string[] = [];
  const nulled: string[] = [];
  for (const [name, { column }] of Object.entries(entity.attributes)) {
    if (column.autoIncrement) assigned.push(name);
    else if (column.generated) computed.push(name);
    else if (column.default !== undefined) defaulted.push(name);
    else if (column.nullable) nulled.push(name);
  }
  const clauses = [
    ...(assigned.length > 0 ? [`${listOf(assigned)} ${are(assigned, "gets the next id", "get the next ids")}`] : []),
    ...(computed.length > 0 ? [`${listOf(computed)} ${are(computed, "is", "are")} computed`] : []),
    ...(defaulted.length > 0
      ? [`${listOf(defaulted)} ${are(defaulted, "takes its default", "take their defaults")}`]
      : []),
    ...(nulled.length > 0 ? [`${listOf(nulled)} ${are(nulled, "is", "are")} NULL`] : []),
  ];
  return { optional: [...assigned, ...computed, ...defaulted, ...nulled], clauses };
}

function entityTypes(name: string, entity: Entity): TypeAliasDeclarationStructure[] {
  const { optional, clauses } = leftOutOnCreate(entity);
  const copies = Object.entries(entity.denormalized ?? {});
  const copyNames = copies.map(([attribute]) => attribute);
  const omitted = [...optional, ...copyNames];
  const key = keyAttributes(entity);
  const primary = key.slice(0, entity.source.primaryKey.length);
  const others = key.slice(primary.length);
  const sources = [...new Set(copies.map(([, copy]) => copy.from))];
  const newDoc = [
    `${upperFirst(withArticle(name))} to create.`,
    ...(clauses.length > 0 ? [`Left out, ${clauses.join("; ")}.`] : []),
    ...(copies.length > 0
      ? [`${listOf(copyNames)} ${are(copyNames, "is a copy", "are copies")} ferry takes from ${listOf(sources)}.`]
      : []),
  ].join(" ");
  return [
    {
      kind: StructureKind.TypeAlias,
      name: `${name}Key`,
      isExported: true,
      docs: [
        topDoc(
          others.length > 0
            ? `What identifies one ${name}: its primary key (${listOf(primary)}) and the ${listOf(others)} of its DynamoDB key, so that both stores address the same item.`
            : `What identifies one ${name}: its primary key (${listOf(primary)}).`,
        ),
      ],
      type: `Pick<${name}, ${union(key)}>`,
    },
    {
      kind: StructureKind.TypeAlias,
      name: `New${name}`,
      isExported: true,
      docs: [topDoc(newDoc)],
      type:
        omitted.length > 0
          ? `Omit<${name}, ${union(omitted)}> & Partial<Pick<${name}, ${union(optional.length > 0 ? optional : omitted)}>>`
          : name,
    },
  ];
}

/** A parameter's type: the attribute's value type, never null (a key or a filter compares with a value). */
function parameterType(entityName: string, entity: Entity, parameter: string): string {
  const attribute = entity.attributes[parameter];
  return attribute ? valueType(attribute) : `NonNullable<${entityName}[${JSON.stringify(parameter)}]>`;
}

/** The attributes a key template reads, in order. */
function placeholders(template: string | undefined): string[] {
  return template === undefined ? [] : keyTemplatePlaceholders(template);
}

/** How one access pattern is read, when it is a read DynamoDB serves and the repositories generate. */
interface Read {
  /** GetItem by exactly the key: what `get` does; "search": a Query of a word index. */
  kind: "key" | "item" | "one" | "many" | "search";
  /** The word index a search reads. */
  wordIndex?: string;
  parameters: string[];
  index?: string;
  order?: "asc" | "desc";
  /** A listing's optional filters, by argument name (AccessPattern.filters). */
  filters?: Record<string, ListFilter>;
  /** Reads that are the same call (same operation, index, values, order and filters) have the same signature. */
  signature: string;
}

function readOf(entity: Entity, pattern: AccessPattern): Read | undefined {
  const { operation, index, order } = pattern.dynamodb;
  const parameters = Object.keys(pattern.parameters ?? {});
  const sorted = [...parameters].sort();
  if (operation === "GetItem" && pattern.returns === "one") {
    const key = keyAttributes(entity);
    if (!key.every((k) => parameters.includes(k))) return undefined;
    const kind = parameters.length === key.length ? "key" : "item";
    return { kind, parameters, signature: JSON.stringify([kind, sorted]) };
  }
  if (operation !== "Query") return undefined;
  const wordIndex = pattern.dynamodb.wordIndex;
  if (wordIndex !== undefined) {
    return { kind: "search", parameters, wordIndex, signature: JSON.stringify(["search", wordIndex, sorted]) };
  }
  const kind = pattern.returns === "one" ? "one" : "many";
  const filters = kind === "many" ? pattern.filters : undefined;
  // No order is ascending on both stores (ScanIndexForward, and the router's ORDER BY).
  return {
    kind,
    parameters,
    ...(index ? { index } : {}),
    ...(order ? { order } : {}),
    ...(filters ? { filters } : {}),
    signature: JSON.stringify([kind, index ?? "", order ?? "asc", sorted, filters ?? {}]),
  };
}

/** "Query on GSI1", "GetItem", "Query on the table". */
function servedBy(pattern: AccessPattern): string {
  const { operation, index } = pattern.dynamodb;
  if (operation === "Query") return `Query on ${index ?? "the table"}`;
  return index ? `${operation} on ${index}` : operation;
}

/** Where a pattern came from and what to know about it: the statement seen (or what it was inferred from), its notes. */
function patternFacts(name: string | undefined, pattern: AccessPattern): string {
  const seen = pattern.observed
    ? `seen ${pattern.observed.count.toLocaleString("en-US")} times as: ${pattern.observed.sql}`
    : pattern.inferred
      ? `inferred from the schema's ${pattern.inferred.from} (no workload asked for it yet)`
      : "declared in the contract";
  const first = name === undefined ? upperFirst(seen) : `${name}, ${seen}`;
  return pattern.notes ? `${first}\nNote: ${pattern.notes}` : first;
}

/** The first sentence of a read's doc: what it returns, in which order, and how DynamoDB serves it. */
function readSummary(entityName: string, entity: Entity, read: Read, pattern: AccessPattern): string {
  const plural = pluralOf(entityName);
  const given = `the given ${listOf(read.parameters)}`;
  const how = servedBy(pattern);
  switch (read.kind) {
    case "key":
      return `Reads one ${entityName} by its key; undefined when there is none (${how}).`;
    case "item": {
      const key = keyAttributes(entity);
      const extra = read.parameters.filter((p) => !key.includes(p));
      return `Reads the ${entityName} with the given ${listOf(key)}, if its ${listOf(extra)} ${are(extra, "matches", "match")} too; undefined otherwise (${how}).`;
    }
    case "one":
      return `Reads the ${entityName} with ${given}; undefined when there is none (${how}).`;
    case "search": {
      const attribute = entity.wordIndexes?.[read.wordIndex ?? ""]?.attribute ?? "";
      return `Searches the ${plural} whose ${attribute} has every word of the given ${listOf(read.parameters)} (letters and digits, whatever the case and accents), the highest ${listOf(keyAttributes(entity))} first, a page at a time (word index ${read.wordIndex}; MySQL narrows with LIKE). No words: an empty page.`;
    }
    case "many": {
      const templates = read.index ? entity.indexes?.[read.index] : entity.key;
      const sortedBy = placeholders(templates?.sort);
      const order =
        sortedBy.length > 0
          ? `, ordered by ${sortedBy.join(" then ")}${read.order === "desc" ? ", descending" : ""}`
          : "";
      const which = read.parameters.length > 0 ? `the ${plural} with ${given}` : `all ${plural}`;
      const filters = Object.entries(read.filters ?? {}).map(([argument, filter]) =>
        filter.value === undefined
          ? `${argument} (${filter.attribute} ${filter.op} it)`
          : `${argument} (${filter.attribute} ${filter.op} ${JSON.stringify(filter.value)}, when true)`,
      );
      const filtered = filters.length === 0 ? "" : ` Optional filters, on both stores: ${listOf(filters)}.`;
      return `Lists ${which}${order}, a page at a time (${how}).${filtered}`;
    }
  }
}

type Method = OptionalKind<MethodDeclarationStructure>;

/** The method of a read (its first pattern names it), or `get`'s body for a read by exactly the key. */
function readMethod(entityName: string, entity: Entity, name: string, read: Read, docs: string): Method {
  const quoted = JSON.stringify(entityName);
  const params =
    read.parameters.length > 0
      ? [
          {
            name: "params",
            type: `{ ${read.parameters.map((p) => `${p}: ${parameterType(entityName, entity, p)}`).join("; ")} }`,
          },
        ]
      : [];
  const values = read.parameters.length > 0 ? "params" : "{}";
  const base = { name, isAsync: true, docs: [memberDoc(docs)], parameters: params };
  if (read.kind === "key" || read.kind === "item") {
    const key = keyAttributes(entity);
    return {
      ...base,
      returnType: `Promise<${entityName} | undefined>`,
      statements:
        read.kind === "key"
          ? [`return this.router.get<${entityName}>(${quoted}, params);`]
          : [
              `const item = await this.router.get<${entityName}>(${quoted}, { ${key.map((k) => `${k}: params.${k}`).join(", ")} });`,
              "return matchesValues(item, params) ? item : undefined;",
            ],
    };
  }
  if (read.kind === "search") {
    const text = read.parameters[0] ?? "";
    return {
      ...base,
      parameters: [...params, { name: "page", type: "PageRequest", initializer: "{}" }],
      returnType: `Promise<Page<${entityName}>>`,
      statements: [
        `return this.router.search<${entityName}>(${quoted}, { index: ${JSON.stringify(read.wordIndex)}, text: params.${text}, ...pageOptions(page) });`,
      ],
    };
  }
  const request = [
    ...(read.index ? [`index: ${JSON.stringify(read.index)}`] : []),
    `values: ${values}`,
    ...(read.order ? [`order: ${JSON.stringify(read.order)}`] : []),
  ];
  if (read.kind === "one") {
    return {
      ...base,
      returnType: `Promise<${entityName} | undefined>`,
      statements: [
        `const page = await this.router.list<${entityName}>(${quoted}, { ${[...request, "limit: 1"].join(", ")} });`,
        "return page.items[0];",
      ],
    };
  }
  const filters = Object.entries(read.filters ?? {});
  if (filters.length === 0) {
    return {
      ...base,
      parameters: [...params, { name: "page", type: "PageRequest", initializer: "{}" }],
      returnType: `Promise<Page<${entityName}>>`,
      statements: [
        `return this.router.list<${entityName}>(${quoted}, { ${[...request, "...pageOptions(page)"].join(", ")} });`,
      ],
    };
  }
  // Each filter given (a flag: set to true) becomes one condition, on both stores.
  const filterType = filters
    .map(([argument, filter]) =>
      filter.value === undefined
        ? `${argument}?: ${parameterType(entityName, entity, filter.attribute)}`
        : `${argument}?: boolean`,
    )
    .join("; ");
  const conditions = filters.map(([argument, filter]) => {
    const condition = `{ attribute: ${JSON.stringify(filter.attribute)}, op: ${JSON.stringify(filter.op)}, value: ${
      filter.value === undefined ? `filters.${argument}` : JSON.stringify(filter.value)
    } }`;
    const given = filter.value === undefined ? `filters.${argument} !== undefined` : `filters.${argument} === true`;
    return `if (${given}) filter.push(${condition});`;
  });
  return {
    ...base,
    parameters: [
      ...params,
      { name: "filters", type: `{ ${filterType} }`, initializer: "{}" },
      { name: "page", type: "PageRequest", initializer: "{}" },
    ],
    returnType: `Promise<Page<${entityName}>>`,
    statements: [
      "const filter: Condition[] = [];",
      ...conditions,
      `return this.router.list<${entityName}>(${quoted}, { ${[...request, "filter", "...pageOptions(page)"].join(", ")} });`,
    ],
  };
}

function repositoryClass(contract: Contract, entityName: string, entity: Entity): ClassDeclarationStructure {
  const unsupported: string[] = [];
  const notGenerated: string[] = [];
  const byKey: Array<[string, AccessPattern]> = [];
  const reads = new Map<string, { read: Read; patterns: Array<[string, AccessPattern]> }>();
  for (const [name, pattern] of Object.entries(contract.accessPatterns ?? {})) {
    if (pattern.entity !== entityName) continue;
    const read = readOf(entity, pattern);
    if (read?.kind === "key") byKey.push([name, pattern]);
    else if (read) {
      const same = reads.get(read.signature);
      if (same) same.patterns.push([name, pattern]);
      else reads.set(read.signature, { read, patterns: [[name, pattern]] });
    } else if (pattern.dynamodb.operation === "unsupported")
      unsupported.push(`- ${name}: ${pattern.dynamodb.reason ?? "unsupported"}`);
    else if (!["PutItem", "UpdateItem", "DeleteItem"].includes(pattern.dynamodb.operation))
      notGenerated.push(`- ${name}: ${pattern.dynamodb.operation} returning ${pattern.returns ?? "many"}`);
  }
  const methods: Method[] = [...reads.values()].map(({ read, patterns }) => {
    const [[name, pattern]] = patterns as [[string, AccessPattern], ...Array<[string, AccessPattern]>];
    const facts =
      patterns.length === 1
        ? [patternFacts(undefined, pattern)]
        : [
            `The access patterns ${listOf(patterns.map(([n]) => n))} are served the same way, so they share this method.`,
            ...patterns.map(([n, p]) => patternFacts(n, p)),
          ];
    return readMethod(
      entityName,
      entity,
      name,
      read,
      [readSummary(entityName, entity, read, pattern), ...facts].join("\n\n"),
    );
  });
  const quoted = JSON.stringify(entityName);
  const getDoc = [
    `Reads one ${entityName} by its key; undefined when there is none.`,
    ...byKey.map(([name, pattern]) => `Serves ${patternFacts(name, pattern)}`),
  ];
  methods.push(
    {
      name: "get",
      isAsync: true,
      docs: [memberDoc(getDoc.join("\n\n"))],
      parameters: [{ name: "key", type: `${entityName}Key` }],
      returnType: `Promise<${entityName} | undefined>`,
      statements: [`return this.router.get<${entityName}>(${quoted}, key);`],
    },
    {
      name: "create",
      isAsync: true,
      docs: [
        memberDoc(
          `Creates ${withArticle(entityName)} on the authoritative store, then on the other; returns it as stored${entity.id?.strategy === "auto-increment" ? " (with its id)" : ""}.`,
        ),
      ],
      parameters: [{ name: "value", type: `New${entityName}` }],
      returnType: `Promise<${entityName}>`,
      statements: [`return this.router.create<${entityName}>(${quoted}, value);`],
    },
    {
      name: "update",
      isAsync: true,
      docs: [
        memberDoc(
          `Changes ${withArticle(entityName)} (not its key) on the authoritative store, then on the other: \`changes\` sets attributes, \`options.add\` adds to numbers, and \`options.condition\` must hold on the authoritative store.`,
        ),
      ],
      parameters: [
        { name: "key", type: `${entityName}Key` },
        { name: "changes", type: `Partial<Omit<${entityName}, keyof ${entityName}Key>>` },
        { name: "options", type: "UpdateRequest", initializer: "{}" },
      ],
      returnType: "Promise<void>",
      statements: [`await this.router.update(${quoted}, key, changes, options);`],
    },
    {
      name: "delete",
      isAsync: true,
      docs: [memberDoc(`Deletes ${withArticle(entityName)}; false when there was none.`)],
      parameters: [{ name: "key", type: `${entityName}Key` }],
      returnType: "Promise<boolean>",
      statements: [`return this.router.delete(${quoted}, key);`],
    },
  );
  const docs = [`${pluralOf(entityName)} (MySQL table \`${entity.source.table}\`), routed by the migration phase.`];
  if (unsupported.length > 0) docs.push(`Not served on DynamoDB, so not generated:\n${unsupported.join("\n")}`);
  if (notGenerated.length > 0) docs.push(`Not generated (no method reads this way yet):\n${notGenerated.join("\n")}`);
  return {
    kind: StructureKind.Class,
    name: `${entityName}Repository`,
    isExported: true,
    docs: [topDoc(docs.join("\n\n"))],
    ctors: [{ parameters: [{ name: "router", type: "EntityRouter", scope: Scope.Private, isReadonly: true }] }],
    methods,
  };
}

/** Attributes that create steps set on an input's values: the caller does not pass them. */
function setByCreates(transaction: Transaction, input: string): string[] {
  const names = new Set<string>();
  for (const step of transaction.steps ?? []) {
    if (step.create === undefined || (step.from ?? step.forEach) !== input) continue;
    for (const name of Object.keys(step.set ?? {})) names.add(name);
  }
  return [...names].sort();
}

/** The input and result types of a transaction, and its method. */
function transactionParts(name: string, transaction: Transaction) {
  const type = upperFirst(name);
  const inputs = Object.entries(transaction.input ?? {});
  const created = new Set(
    (transaction.steps ?? []).flatMap((step) =>
      step.create === undefined ? [] : [step.from ?? step.forEach ?? ""].filter(Boolean),
    ),
  );
  const inputType: InterfaceDeclarationStructure = {
    kind: StructureKind.Interface,
    name: `${type}Input`,
    isExported: true,
    docs: [topDoc(`What ${name} takes.`)],
    properties: inputs.map(([inputName, input]) => {
      const set = setByCreates(transaction, inputName);
      const base = input.kind === "key" ? `${input.entity}Key` : `New${input.entity}`;
      const one = set.length > 0 ? `Omit<${base}, ${union(set)}>` : base;
      const what =
        input.kind === "key"
          ? input.list
            ? `The keys of ${pluralOf(input.entity)}`
            : `The key of one ${input.entity}`
          : input.list
            ? `New ${pluralOf(input.entity)}`
            : `A new ${input.entity}`;
      return {
        name: inputName,
        type: input.list ? (set.length > 0 ? `Array<${one}>` : `${one}[]`) : one,
        docs: [memberDoc(`${what}${set.length > 0 ? ` (${listOf(set)} set by the transaction)` : ""}.`)],
      };
    }),
  };
  const createdInputs = inputs.filter(([inputName]) => created.has(inputName));
  // A transaction that creates nothing answers an empty object.
  const resultType: InterfaceDeclarationStructure | TypeAliasDeclarationStructure =
    createdInputs.length === 0
      ? {
          kind: StructureKind.TypeAlias,
          name: `${type}Result`,
          isExported: true,
          docs: [topDoc(`What ${name} answers: it creates nothing, so an empty object.`)],
          type: "Record<string, never>",
        }
      : {
          kind: StructureKind.Interface,
          name: `${type}Result`,
          isExported: true,
          docs: [topDoc(`What ${name} created, as stored (with ids).`)],
          properties: createdInputs.map(([inputName, input]) => ({
            name: inputName,
            type: input.list ? `${input.entity}[]` : input.entity,
          })),
        };
  const stepDocs = (transaction.steps ?? []).map((step, i) => {
    const what = stepOperation(step);
    const over = step.forEach ? ` for each of ${step.forEach}` : "";
    const conditions = step.condition?.length ? `, if ${step.condition.join(" and ")}` : "";
    return `${i + 1}. ${what?.operation ?? "?"} ${what?.entity ?? "?"}${over}${conditions}${step.description ? `: ${step.description}` : ""}`;
  });
  const method: OptionalKind<MethodDeclarationStructure> = {
    name,
    isAsync: true,
    docs: [
      memberDoc(
        [
          transaction.description ?? `The contract's ${name} transaction.`,
          stepDocs.join("\n"),
          "All or nothing: one MySQL transaction or one DynamoDB TransactWriteItems, routed by the phase. TransactionFailed says which step failed (e.g. a condition); TransactionRefused means nothing was tried.",
        ].join("\n\n"),
      ),
    ],
    parameters: [{ name: "input", type: `${type}Input` }],
    returnType: `Promise<${type}Result>`,
    statements: [`return this.router.transact<${type}Result>(${JSON.stringify(name)}, input);`],
  };
  return { types: [inputType, resultType], method };
}

function transactionsClass(contract: Contract) {
  const generated = Object.entries(contract.transactions ?? {}).filter(([, t]) => (t.steps ?? []).length > 0);
  if (generated.length === 0) return undefined;
  const parts = generated.map(([name, transaction]) => transactionParts(name, transaction));
  const declared = Object.entries(contract.transactions ?? {})
    .filter(([, t]) => (t.steps ?? []).length === 0)
    .map(([name]) => name);
  const docs = ["The contract's transactions, routed by the migration phase."];
  if (declared.length > 0) docs.push(`Declared without steps, so not generated: ${listOf(declared)}.`);
  const declaration: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: "Transactions",
    isExported: true,
    docs: [topDoc(docs.join("\n\n"))],
    ctors: [{ parameters: [{ name: "router", type: "EntityRouter", scope: Scope.Private, isReadonly: true }] }],
    methods: parts.map((part) => part.method),
  };
  return {
    types: parts.flatMap((part) => part.types),
    declaration,
    typeNames: generated.flatMap(([name]) => [`${upperFirst(name)}Input`, `${upperFirst(name)}Result`]),
  };
}

export interface RepositoryStatements {
  types: Array<TypeAliasDeclarationStructure | InterfaceDeclarationStructure>;
  classes: ClassDeclarationStructure[];
  factory: Array<InterfaceDeclarationStructure | FunctionDeclarationStructure>;
  entityNames: string[];
  /** Input and result type names of the generated transactions (empty when there are none). */
  transactionTypes: string[];
  /** The Store property of the transactions, when there are any. */
  transactionsProperty: string | undefined;
}

export function repositoryStatements(contract: Contract): RepositoryStatements {
  const entities = Object.entries(contract.entities);
  const types: RepositoryStatements["types"] = entities.flatMap(([name, entity]) => entityTypes(name, entity));
  const classes = entities.map(([name, entity]) => repositoryClass(contract, name, entity));
  const members = entities.map(([name]) => ({ property: lowerFirst(pluralOf(name)), name }));
  const transactions = transactionsClass(contract);
  const transactionsProperty = transactions
    ? members.some((m) => m.property === "transactions")
      ? "contractTransactions"
      : "transactions"
    : undefined;
  if (transactions) {
    types.push(...transactions.types);
    classes.push(transactions.declaration);
  }
  const storeMembers = [
    ...members.map((m) => ({ property: m.property, type: `${m.name}Repository` })),
    ...(transactionsProperty ? [{ property: transactionsProperty, type: "Transactions" }] : []),
  ];
  const factory: RepositoryStatements["factory"] = [
    {
      kind: StructureKind.Interface,
      name: "Store",
      isExported: true,
      docs: [
        topDoc(
          `Every entity's repository${transactionsProperty ? " and the contract's transactions" : ""}, over one router: what createStore, createMysqlStore and createDynamoStore return.`,
        ),
      ],
      properties: storeMembers.map((m) => ({ name: m.property, type: m.type, isReadonly: true })),
    },
    {
      kind: StructureKind.Function,
      name: "createStore",
      isExported: true,
      docs: [
        topDoc(
          "The repositories over both stores, routed by the migration phase: what applications use. Reads go to the authoritative store; writes go to it first, then to the other.",
        ),
      ],
      parameters: [{ name: "options", type: "StoreOptions" }],
      returnType: "Store",
      statements: ["return repositories(createPhaseRouter(contract, options));"],
    },
    {
      kind: StructureKind.Function,
      name: "createMysqlStore",
      isExported: true,
      docs: [
        topDoc(
          "The same repositories over MySQL alone, as in phase 1 (parameterised SQL from the contract, keyset pagination): nothing on DynamoDB. For scripts, tests and the legacy side; applications use createStore.",
        ),
      ],
      parameters: [{ name: "options", type: "MysqlStoreOptions" }],
      returnType: "Store",
      statements: ["return repositories(createMysqlRouter(contract, options));"],
    },
    {
      kind: StructureKind.Function,
      name: "createDynamoStore",
      isExported: true,
      docs: [
        topDoc(
          "The same repositories over DynamoDB alone, as in phase 5 (GetItem/Query, conditional writes, unique markers, ids from the id counter): nothing on MySQL. For scripts, tests and the end state; applications use createStore.",
        ),
      ],
      parameters: [{ name: "options", type: "DynamoStoreOptions" }],
      returnType: "Store",
      statements: ["return repositories(createDynamoRouter(contract, options));"],
    },
    {
      kind: StructureKind.Function,
      name: "repositories",
      docs: [topDoc("The Store over one router.")],
      parameters: [{ name: "router", type: "EntityRouter" }],
      returnType: "Store",
      statements: [`return { ${storeMembers.map((m) => `${m.property}: new ${m.type}(router)`).join(", ")} };`],
    },
  ];
  return {
    types,
    classes,
    factory,
    entityNames: entities.map(([name]) => name),
    transactionTypes: transactions?.typeNames ?? [],
    transactionsProperty,
  };
}
