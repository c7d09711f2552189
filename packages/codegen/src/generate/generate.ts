/**
 * `ferry generate`: contract -> a package of generated TypeScript. Handlebars templates give each file its
 * shape (header, doc, imports, body); ts-morph builds the declarations from structures and type-checks the
 * whole package in memory under strict settings; Biome formats it. The output is byte-identical for the
 * same contract, so CI can regenerate and compare (`--check`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Contract } from "@ferry/contract";
import Handlebars from "handlebars";
import {
  IndentationText,
  type InterfaceDeclarationStructure,
  Project,
  type StatementStructures,
  StructureKind,
  ts,
  VariableDeclarationKind,
} from "ts-morph";
import { cloudFormationTemplateJson, tableDefinitionsJson } from "../tables/index.ts";
import { entityInterfaces, JSON_VALUE } from "./entities.ts";
import { repositoryStatements } from "./repositories.ts";

export interface GenerateOptions {
  /** The contract file, as it should be named in headers (relative to the repository root). */
  contractPath: string;
  /** The package folder to write (e.g. packages/store-data). */
  outDir: string;
  /** npm name of the generated package (default `@ferry/<contract name>-data`). */
  packageName?: string;
  /** The repository root (for Biome's configuration); default: the current folder. */
  root?: string;
}

/** Generated files by path relative to the package folder. */
export type GeneratedFiles = Map<string, string>;

const templatesDir = fileURLToPath(new URL("../../templates/", import.meta.url));
const template = (name: string) =>
  Handlebars.compile(readFileSync(join(templatesDir, name), "utf8"), { noEscape: true, strict: true });
const fileTemplate = template("file.ts.hbs");
const packageTemplate = template("package.json.hbs");

function printStatements(statements: StatementStructures[]): string {
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces },
  });
  return project.createSourceFile("print.ts", { statements }).getFullText().trim();
}

export function generate(contract: Contract, options: GenerateOptions): GeneratedFiles {
  const { contractPath } = options;
  const packageName = options.packageName ?? `@ferry/${contract.name}-data`;
  const files: GeneratedFiles = new Map();
  const interfaces: InterfaceDeclarationStructure[] = entityInterfaces(contract);

  files.set(
    "src/entities.ts",
    fileTemplate({
      contractPath,
      doc: [`The entities of the ${contract.name} contract, as the application sees them on either store.`],
      body: printStatements([JSON_VALUE, ...interfaces]),
    }),
  );
  files.set(
    "src/contract.ts",
    fileTemplate({
      contractPath,
      doc: ["The contract this package was generated from: the runtime's codec works from it."],
      imports: printStatements([
        {
          kind: StructureKind.ImportDeclaration,
          moduleSpecifier: "@ferry/contract",
          isTypeOnly: true,
          namedImports: ["Contract"],
        },
      ]),
      body: printStatements([
        {
          kind: StructureKind.VariableStatement,
          isExported: true,
          declarationKind: VariableDeclarationKind.Const,
          declarations: [{ name: "contract", type: "Contract", initializer: JSON.stringify(contract, null, 2) }],
        },
      ]),
    }),
  );
  const repositories = repositoryStatements(contract);
  const repositoryText = printStatements([...repositories.types, ...repositories.classes, ...repositories.factory]);
  const runtimeImports = [
    "createCodec",
    "type DynamoDBClient",
    "DynamoEntityStore",
    "EntityRouter",
    "FixedPhase",
    "IdAllocator",
    ...(repositoryText.includes("matchesValues(") ? ["matchesValues"] : []),
    "type Metrics",
    "MysqlEntityStore",
    "type MysqlExecutor",
    "type PhaseSource",
    "type SecondaryFailure",
    "type ShadowReader",
    "type UpdateRequest",
  ];
  files.set(
    "src/repositories.ts",
    fileTemplate({
      contractPath,
      doc: [
        "The phase-routed repositories: the only thing applications use. Each call goes where the migration",
        "phase says (runtime EntityRouter): reads to the authoritative store, writes to both, authoritative first.",
      ],
      imports: [
        `import { ${runtimeImports.join(", ")} } from "@ferry/runtime";`,
        'import { contract } from "./contract.ts";',
        `import type { ${repositories.entityNames.join(", ")} } from "./entities.ts";`,
      ].join("\n"),
      body: repositoryText,
    }),
  );
  files.set(
    "src/index.ts",
    fileTemplate({
      contractPath,
      body: printStatements([
        { kind: StructureKind.ExportDeclaration, moduleSpecifier: "./contract.ts", namedExports: ["contract"] },
        {
          kind: StructureKind.ExportDeclaration,
          isTypeOnly: true,
          moduleSpecifier: "./entities.ts",
          namedExports: ["JsonValue", ...interfaces.map((i) => i.name)],
        },
        {
          kind: StructureKind.ExportDeclaration,
          moduleSpecifier: "./repositories.ts",
          namedExports: [
            "createDynamoStore",
            "createMysqlStore",
            "createStore",
            ...repositories.entityNames.map((name) => `${name}Repository`),
            ...["Page", "PageRequest", "StoreOptions"].map((name) => ({ name, isTypeOnly: true })),
            ...(repositories.transactionsProperty ? ["Transactions"] : []),
            ...repositories.entityNames
              .flatMap((name) => [`${name}Key`, `New${name}`])
              .map((name) => ({ name, isTypeOnly: true })),
            ...repositories.transactionTypes.map((name) => ({ name, isTypeOnly: true })),
          ],
        },
      ]),
    }),
  );
  // The DynamoDB tables the code expects: CreateTable inputs, and a template for `aws cloudformation deploy`.
  files.set("tables.json", tableDefinitionsJson(contract));
  files.set("cloudformation.json", cloudFormationTemplateJson(contract));
  const contractFromPackage = relative(options.outDir, contractPath);
  files.set("package.json", packageTemplate({ packageName, contractPath, contractFromPackage }));
  files.set(
    "tsconfig.json",
    `${JSON.stringify({ extends: relative(options.outDir, "tsconfig.base.json"), include: ["src"] }, null, 2)}\n`,
  );
  typeCheck(files, options.root ?? process.cwd(), options.outDir);
  return formatted(files, options.root ?? process.cwd(), options.outDir);
}

/** The packages generated code imports, resolved to their sources in this repository for the check. */
const SOURCES = {
  "@ferry/runtime": fileURLToPath(new URL("../../../runtime/src/index.ts", import.meta.url)),
  "@ferry/contract": fileURLToPath(new URL("../../../contract/src/index.ts", import.meta.url)),
};

/** Type-checks the generated sources (strict, against the real runtime and contract); throws with the diagnostics. */
function typeCheck(files: GeneratedFiles, root: string, outDir: string): void {
  const project = new Project({
    skipAddingFilesFromTsConfig: true,
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      paths: Object.fromEntries(Object.entries(SOURCES).map(([name, path]) => [name, [path]])),
    },
  });
  const generated = [...files]
    .filter(([path]) => path.endsWith(".ts"))
    .map(([path, text]) => project.createSourceFile(join(root, outDir, path), text, { overwrite: true }));
  const diagnostics = generated.flatMap((file) => [...file.getPreEmitDiagnostics()]);
  if (diagnostics.length > 0) {
    throw new Error(
      `generated code does not type-check:\n${project.formatDiagnosticsWithColorAndContext(diagnostics)}`,
    );
  }
}

/** Formats every file as `biome ci` expects it (format + organised imports), with the repository's Biome configuration. */
function formatted(files: GeneratedFiles, root: string, outDir: string): GeneratedFiles {
  const require = createRequire(import.meta.url);
  const biome = require.resolve("@biomejs/biome/bin/biome");
  const out: GeneratedFiles = new Map();
  for (const [path, text] of files) {
    // A big contract embeds a big contract.ts: past Biome's default 1 MiB limit, which would refuse to format it.
    const maxSize = `--files-max-size=${Math.max(1 << 20, 2 * Buffer.byteLength(text))}`;
    const result = spawnSync(
      process.execPath,
      [biome, "check", "--write", maxSize, `--stdin-file-path=${join(outDir, path)}`],
      { cwd: root, input: text, encoding: "utf8", maxBuffer: 64 * Buffer.byteLength(text) + (1 << 20) },
    );
    if (result.status !== 0) throw new Error(`biome could not format ${path}: ${result.stderr || result.stdout}`);
    out.set(path, result.stdout);
  }
  return out;
}

/** Paths (relative to outDir) whose file on disk differs from the generated text, or is missing. */
export function staleFiles(files: GeneratedFiles, outDir: string): string[] {
  return [...files]
    .filter(([path, text]) => !existsSync(join(outDir, path)) || readFileSync(join(outDir, path), "utf8") !== text)
    .map(([path]) => path);
}

export function writeFiles(files: GeneratedFiles, outDir: string): void {
  for (const [path, text] of files) {
    const file = resolve(outDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
