/**
 * The phase-routed repositories: one class per entity with a method per access pattern DynamoDB can serve
 * (GetItem, Query on the table or an index) plus create/update/delete by key, all through the runtime's
 * EntityRouter, and `createStore()` to wire the stores and the router from the embedded contract.
 * The only thing apps use. Patterns DynamoDB cannot serve are listed, not generated.
 */
import {
  type AccessPattern,
  type Contract,
  type Entity,
  identityAttributes,
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

const lowerFirst = (name: string) => `${name[0]?.toLowerCase() ?? ""}${name.slice(1)}`;
const pluralOf = (name: string) =>
  /[^aeiou]y$/.test(name) ? `${name.slice(0, -1)}ies` : /(s|x|ch|sh|z)$/.test(name) ? `${name}es` : `${name}s`;

/** The attributes a key names: the primary key's, then those of the DynamoDB key templates (see identityAttributes). */
export function keyAttributes(entity: Entity): string[] {
  return identityAttributes(entity);
}

/** Attributes a create may leave out: the database fills them (auto-increment, a default) or they may be NULL. */
function optionalOnCreate(entity: Entity): string[] {
  return Object.entries(entity.attributes)
    .filter(
      ([, a]) => a.column.autoIncrement || a.column.default !== undefined || a.column.nullable || a.column.generated,
    )
    .map(([name]) => name);
}

const union = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(" | ");

function entityTypes(name: string, entity: Entity): TypeAliasDeclarationStructure[] {
  const optional = optionalOnCreate(entity);
  const copies = Object.keys(entity.denormalized ?? {});
  const omitted = [...optional, ...copies];
  const key = keyAttributes(entity);
  const primary = entity.source.primaryKey.length;
  return [
    {
      kind: StructureKind.TypeAlias,
      name: `${name}Key`,
      isExported: true,
      docs: [
        key.length > primary
          ? `What identifies one ${name}: its primary key, and ${key.slice(primary).join(", ")} of its DynamoDB key (both stores address the same item).`
          : `What identifies one ${name}: its primary key.`,
      ],
      type: `Pick<${name}, ${union(keyAttributes(entity))}>`,
    },
    {
      kind: StructureKind.TypeAlias,
      name: `New${name}`,
      isExported: true,
      docs: [
        optional.length > 0
          ? `A ${name} to create: ${optional.join(", ")} may be left out (the database fills ${optional.length === 1 ? "it" : "them"} in, or ${optional.length === 1 ? "it" : "they"} may be NULL).`
          : `A ${name} to create.`,
      ],
      type:
        omitted.length > 0
          ? `Omit<${name}, ${union(omitted)}> & Partial<Pick<${name}, ${union(optional.length > 0 ? optional : omitted)}>>`
          : name,
    },
  ];
}

function parameterType(entityName: string, pattern: AccessPattern): string {
  const names = Object.keys(pattern.parameters ?? {});
  return `{ ${names.map((p) => `${p}: NonNullable<${entityName}["${p}"]>`).join("; ")} }`;
}

function patternDoc(name: string, pattern: AccessPattern): string {
  const how = `${pattern.dynamodb.operation}${pattern.dynamodb.index ? ` on ${pattern.dynamodb.index}` : ""}`;
  const seen = pattern.observed
    ? ` Seen ${pattern.observed.count.toLocaleString("en-US")} times as: ${pattern.observed.sql}`
    : "";
  return `${name}: ${how}.${seen}${pattern.notes ? `\n\n${pattern.notes}` : ""}`;
}

/** The method for one read pattern, or undefined when the pattern is not a read DynamoDB serves. */
function patternMethod(
  entityName: string,
  entity: Entity,
  name: string,
  pattern: AccessPattern,
): OptionalKind<MethodDeclarationStructure> | undefined {
  const { operation, index, order } = pattern.dynamodb;
  const parameters = Object.keys(pattern.parameters ?? {});
  const hasParameters = parameters.length > 0;
  const paramsArg = hasParameters ? [{ name: "params", type: parameterType(entityName, pattern) }] : [];
  const values = hasParameters ? "params" : "{}";
  const docs = [patternDoc(name, pattern)];
  if (operation === "GetItem" && pattern.returns === "one") {
    const key = keyAttributes(entity);
    if (!key.every((k) => parameters.includes(k))) return undefined;
    const exact = parameters.length === key.length;
    return {
      name,
      isAsync: true,
      docs,
      parameters: paramsArg,
      returnType: `Promise<${entityName} | undefined>`,
      statements: exact
        ? [`return this.router.get<${entityName}>(${JSON.stringify(entityName)}, params);`]
        : [
            `const item = await this.router.get<${entityName}>(${JSON.stringify(entityName)}, { ${key.map((k) => `${k}: params.${k}`).join(", ")} });`,
            "return matchesValues(item, params) ? item : undefined;",
          ],
    };
  }
  if (operation !== "Query") return undefined;
  const request = [
    ...(index ? [`index: ${JSON.stringify(index)}`] : []),
    `values: ${values}`,
    ...(order ? [`order: ${JSON.stringify(order)}`] : []),
  ];
  if (pattern.returns === "one") {
    return {
      name,
      isAsync: true,
      docs,
      parameters: paramsArg,
      returnType: `Promise<${entityName} | undefined>`,
      statements: [
        `const page = await this.router.list<${entityName}>(${JSON.stringify(entityName)}, { ${[...request, "limit: 1"].join(", ")} });`,
        "return page.items[0];",
      ],
    };
  }
  return {
    name,
    isAsync: true,
    docs,
    parameters: [...paramsArg, { name: "page", type: "PageRequest", initializer: "{}" }],
    returnType: `Promise<Page<${entityName}>>`,
    statements: [
      `return this.router.list<${entityName}>(${JSON.stringify(entityName)}, { ${[...request, "...pageOptions(page)"].join(", ")} });`,
    ],
  };
}

function repositoryClass(contract: Contract, entityName: string, entity: Entity): ClassDeclarationStructure {
  const methods: OptionalKind<MethodDeclarationStructure>[] = [];
  const notGenerated: string[] = [];
  for (const [name, pattern] of Object.entries(contract.accessPatterns ?? {})) {
    if (pattern.entity !== entityName) continue;
    const method = patternMethod(entityName, entity, name, pattern);
    if (method) methods.push(method);
    else if (pattern.dynamodb.operation === "unsupported")
      notGenerated.push(`${name} (${pattern.dynamodb.reason ?? "unsupported"})`);
    else if (!["PutItem", "UpdateItem", "DeleteItem"].includes(pattern.dynamodb.operation))
      notGenerated.push(`${name} (${pattern.dynamodb.operation} returning ${pattern.returns ?? "many"})`);
  }
  const quoted = JSON.stringify(entityName);
  methods.push(
    {
      name: "get",
      isAsync: true,
      docs: [`Reads one ${entityName} by its primary key.`],
      parameters: [{ name: "key", type: `${entityName}Key` }],
      returnType: `Promise<${entityName} | undefined>`,
      statements: [`return this.router.get<${entityName}>(${quoted}, key);`],
    },
    {
      name: "create",
      isAsync: true,
      docs: [
        `Creates a ${entityName} on the authoritative store, then on the other; returns it as stored (with its id).`,
      ],
      parameters: [{ name: "value", type: `New${entityName}` }],
      returnType: `Promise<${entityName}>`,
      statements: [`return this.router.create<${entityName}>(${quoted}, value);`],
    },
    {
      name: "update",
      isAsync: true,
      docs: [`Changes a ${entityName}; a changed key moves the item on DynamoDB in one transaction.`],
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
      docs: [`Deletes a ${entityName}; false when there was none.`],
      parameters: [{ name: "key", type: `${entityName}Key` }],
      returnType: "Promise<boolean>",
      statements: [`return this.router.delete(${quoted}, key);`],
    },
  );
  const docs = [`${pluralOf(entityName)} (MySQL table \`${entity.source.table}\`), routed by the migration phase.`];
  if (notGenerated.length > 0)
    docs.push(`Not served on DynamoDB, so not generated:\n${notGenerated.map((n) => `- ${n}`).join("\n")}`);
  return {
    kind: StructureKind.Class,
    name: `${entityName}Repository`,
    isExported: true,
    docs: [docs.join("\n\n")],
    ctors: [{ parameters: [{ name: "router", type: "EntityRouter", scope: Scope.Private, isReadonly: true }] }],
    methods,
  };
}

/** Turns a page request into the router's limit and cursor (emitted only when a listing uses it). */
const PAGE_OPTIONS: FunctionDeclarationStructure = {
  kind: StructureKind.Function,
  name: "pageOptions",
  docs: ["The limit and cursor of a page request, as the router takes them."],
  parameters: [{ name: "page", type: "PageRequest" }],
  returnType: "{ limit: number; cursor?: string }",
  statements: [
    "return page.cursor === undefined ? { limit: page.limit ?? 50 } : { limit: page.limit ?? 50, cursor: page.cursor };",
  ],
};

const upperFirst = (name: string) => `${name[0]?.toUpperCase() ?? ""}${name.slice(1)}`;

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
    docs: [`What ${name} takes.`],
    properties: inputs.map(([inputName, input]) => {
      const set = setByCreates(transaction, inputName);
      const base = input.kind === "key" ? `${input.entity}Key` : `New${input.entity}`;
      const one = set.length > 0 ? `Omit<${base}, ${union(set)}>` : base;
      const plural = input.list ? pluralOf(input.entity) : input.entity;
      const what =
        input.kind === "key"
          ? `The key${input.list ? "s" : ""} of ${input.list ? "" : "one "}${plural}`
          : `${input.list ? "New" : "A new"} ${plural}`;
      return {
        name: inputName,
        type: input.list ? (set.length > 0 ? `Array<${one}>` : `${one}[]`) : one,
        docs: [`${what}${set.length > 0 ? ` (${set.join(", ")} set by the transaction)` : ""}.`],
      };
    }),
  };
  const resultType: InterfaceDeclarationStructure = {
    kind: StructureKind.Interface,
    name: `${type}Result`,
    isExported: true,
    docs: [`What ${name} created, as stored (with ids).`],
    properties: inputs
      .filter(([inputName]) => created.has(inputName))
      .map(([inputName, input]) => ({ name: inputName, type: input.list ? `${input.entity}[]` : input.entity })),
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
      [
        `${name}: ${transaction.description ?? "a contract transaction"}`,
        stepDocs.join("\n"),
        "All or nothing: one MySQL transaction or one DynamoDB TransactWriteItems, routed by the phase. TransactionFailed says which step failed (e.g. a condition); TransactionRefused means nothing was tried.",
      ].join("\n\n"),
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
  if (declared.length > 0) docs.push(`Declared without steps, so not generated: ${declared.join(", ")}.`);
  const declaration: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: "Transactions",
    isExported: true,
    docs: [docs.join("\n\n")],
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
  /** The createStore() property of the transactions, when there are any. */
  transactionsProperty: string | undefined;
}

export function repositoryStatements(contract: Contract): RepositoryStatements {
  const entities = Object.entries(contract.entities);
  const types: RepositoryStatements["types"] = [
    {
      kind: StructureKind.Interface,
      name: "PageRequest",
      isExported: true,
      docs: ["Which page of a listing: at most `limit` items (default 50), after `cursor` from the previous page."],
      properties: [
        { name: "limit", type: "number", hasQuestionToken: true },
        { name: "cursor", type: "string", hasQuestionToken: true },
      ],
    },
    {
      kind: StructureKind.Interface,
      name: "Page",
      isExported: true,
      typeParameters: ["T"],
      docs: [
        "One page of a listing; `cursor` is there when more may follow (it is refused after a phase change: restart the listing).",
      ],
      properties: [
        { name: "items", type: "T[]" },
        { name: "cursor", type: "string", hasQuestionToken: true },
      ],
    },
    ...entities.flatMap(([name, entity]) => entityTypes(name, entity)),
  ];
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
    ...members.map((m) => `${m.property}: new ${m.name}Repository(router)`),
    ...(transactionsProperty ? [`${transactionsProperty}: new Transactions(router)`] : []),
  ];
  const factory: RepositoryStatements["factory"] = [
    {
      kind: StructureKind.Interface,
      name: "StoreOptions",
      isExported: true,
      docs: ["What the generated store runs on."],
      properties: [
        { name: "phase", type: "PhaseSource", docs: ["Where the current migration phase comes from."] },
        { name: "mysql", type: "MysqlExecutor", docs: ["A MySQL connection or pool (from connectMysql)."] },
        { name: "dynamodb", type: "DynamoDBClient" },
        {
          name: "tablePrefix",
          type: "string",
          hasQuestionToken: true,
          docs: ["Prefix of the DynamoDB table names (FERRY_TABLE_PREFIX)."],
        },
        {
          name: "onSecondaryFailure",
          type: "(failure: SecondaryFailure) => unknown",
          docs: [
            "Receives every write the non-authoritative store refused, to be replayed: an Outbox's `record` (awaited before the call answers).",
          ],
        },
        {
          name: "idGate",
          type: "() => Promise<void>",
          hasQuestionToken: true,
          docs: [
            "Waits, once per phase change in phase 4, until no process lets MySQL hand out ids (a FleetMember's waits for the fleet).",
          ],
        },
        {
          name: "metrics",
          type: "Metrics",
          hasQuestionToken: true,
          docs: ["Times every store call (mount its Prometheus text at /metrics)."],
        },
        {
          name: "shadow",
          type: "ShadowReader",
          hasQuestionToken: true,
          docs: [
            "Phase 3's shadow reads; without it phase 3 reads like phase 2. A FleetMember's storeOptions has them all.",
          ],
        },
      ],
    },
    {
      kind: StructureKind.Function,
      name: "createStore",
      isExported: true,
      docs: [
        "The phase-routed repositories of every entity, over one router: what apps use. Each call goes to the stores the current phase says.",
      ],
      parameters: [{ name: "options", type: "StoreOptions" }],
      statements: [
        "const codec = createCodec(contract);",
        `return repositories(
  new EntityRouter({
    phase: options.phase,
    codec,
    mysql: new MysqlEntityStore(options.mysql, codec),
    dynamodb: new DynamoEntityStore(options.dynamodb, codec, { tablePrefix: options.tablePrefix ?? "" }),
    ids: new IdAllocator(options.dynamodb, { tablePrefix: options.tablePrefix ?? "" }),
    onSecondaryFailure: options.onSecondaryFailure,
    ...(options.idGate ? { idGate: options.idGate } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.shadow ? { shadow: options.shadow } : {}),
  }),
);`,
      ],
    },
    {
      kind: StructureKind.Function,
      name: "createMysqlStore",
      isExported: true,
      docs: [
        "The same repositories over MySQL alone (parameterised SQL from the contract, keyset pagination): every call on MySQL, nothing on DynamoDB. For scripts, tests and the legacy side; apps use createStore.",
      ],
      parameters: [{ name: "options", type: "{ mysql: MysqlExecutor }" }],
      statements: [
        "const codec = createCodec(contract);",
        "return repositories(new EntityRouter({ phase: new FixedPhase(1), codec, mysql: new MysqlEntityStore(options.mysql, codec) }));",
      ],
    },
    {
      kind: StructureKind.Function,
      name: "createDynamoStore",
      isExported: true,
      docs: [
        "The same repositories over DynamoDB alone (GetItem/Query, conditional writes, unique markers, ids from the id counter): nothing on MySQL. For scripts, tests and the end state; apps use createStore.",
      ],
      parameters: [{ name: "options", type: "{ dynamodb: DynamoDBClient; tablePrefix?: string }" }],
      statements: [
        "const codec = createCodec(contract);",
        `return repositories(
  new EntityRouter({
    phase: new FixedPhase(5),
    codec,
    dynamodb: new DynamoEntityStore(options.dynamodb, codec, { tablePrefix: options.tablePrefix ?? "" }),
    ids: new IdAllocator(options.dynamodb, { tablePrefix: options.tablePrefix ?? "" }),
  }),
);`,
      ],
    },
    {
      kind: StructureKind.Function,
      name: "repositories",
      docs: ["Every entity's repository (and the transactions) over one router."],
      parameters: [{ name: "router", type: "EntityRouter" }],
      statements: [`return { ${storeMembers.join(", ")} };`],
    },
    ...(classes.some((c) => c.methods?.some((m) => m.parameters?.some((p) => p.type === "PageRequest")))
      ? [PAGE_OPTIONS]
      : []),
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
