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
} from "ts-morph";
import { generatedNotice } from "../notice.ts";
import { cloudFormationTemplateJson, tableDefinitionsJson } from "../tables/index.ts";
import { entityInterfaces, JSON_VALUE } from "./entities.ts";
import { docText, LINE_WIDTH } from "./prose.ts";
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
  const notice = generatedNotice(contractPath);
  const sourceFile = (parts: { doc?: string[]; imports?: string; body: string }) =>
    fileTemplate({ notice, contractPath, ...parts, doc: parts.doc && docText(parts.doc.join(" "), 0).split("\n") });
  const files: GeneratedFiles = new Map();
  const interfaces: InterfaceDeclarationStructure[] = entityInterfaces(contract);

  files.set(
    "src/entities.ts",
    sourceFile({
      doc: [`The entities of the ${contract.name} contract, as the application sees them on either store.`],
      body: printStatements([JSON_VALUE, ...interfaces]),
    }),
  );
  files.set(
    "src/contract.ts",
    sourceFile({
      doc: ["The contract this package was generated from: the runtime's codec works from it."],
      imports: 'import type { Contract } from "@ferry/runtime";',
      body: `export const contract: Contract = ${tsLiteral(contract, 0)};`,
    }),
  );
  const repositories = repositoryStatements(contract);
  const repositoryText = printStatements([...repositories.types, ...repositories.classes, ...repositories.factory]);
  const runtimeImports = [
    ...(repositoryText.includes("Condition[]") ? ["type Condition"] : []),
    "createDynamoRouter",
    "createMysqlRouter",
    "createPhaseRouter",
    "type DynamoStoreOptions",
    "type EntityRouter",
    ...(repositoryText.includes("matchesValues(") ? ["matchesValues"] : []),
    "type MysqlStoreOptions",
    ...(repositoryText.includes("pageOptions(") ? ["type Page", "type PageRequest", "pageOptions"] : []),
    "type StoreOptions",
    "type UpdateRequest",
  ];
  const entityImports = [...(/\bJsonValue\b/.test(repositoryText) ? ["JsonValue"] : []), ...repositories.entityNames];
  files.set(
    "src/repositories.ts",
    sourceFile({
      doc: [
        "The phase-routed repositories: the only thing applications use. Each call goes where the migration",
        "phase says (the runtime's EntityRouter): reads to the authoritative store, writes to both, authoritative first.",
      ],
      imports: [
        `import { ${runtimeImports.join(", ")} } from "@ferry/runtime";`,
        'import { contract } from "./contract.ts";',
        `import type { ${entityImports.join(", ")} } from "./entities.ts";`,
      ].join("\n"),
      body: repositoryText,
    }),
  );
  files.set(
    "src/index.ts",
    sourceFile({
      body: printStatements([
        {
          kind: StructureKind.ExportDeclaration,
          isTypeOnly: true,
          moduleSpecifier: "@ferry/runtime",
          namedExports: ["DynamoStoreOptions", "MysqlStoreOptions", "Page", "PageRequest", "StoreOptions"],
        },
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
            { name: "Store", isTypeOnly: true },
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
  files.set("tables.json", tableDefinitionsJson(contract, { prefix: "" }, { source: contractPath }));
  files.set("cloudformation.json", cloudFormationTemplateJson(contract, { source: contractPath }));
  const contractFromPackage = relative(options.outDir, contractPath);
  const cliFromPackage = relative(options.outDir, "packages/cli/src/bin.ts");
  files.set("package.json", packageTemplate({ packageName, notice, contractFromPackage, cliFromPackage }));
  files.set(
    "tsconfig.json",
    `// ${notice}\n${JSON.stringify({ extends: relative(options.outDir, "tsconfig.base.json"), include: ["src"] }, null, 2)}\n`,
  );
  typeCheck(files, options.root ?? process.cwd(), options.outDir);
  return formatted(files, options.root ?? process.cwd(), options.outDir);
}

/**
 * A value as TypeScript literal text (JSON's, with keys quoted), its long strings cut at spaces into a concatenation
 * of pieces that fit the line width where the formatter puts them (one level deeper than the property).
 */
function tsLiteral(value: unknown, indent: number): string {
  if (typeof value === "string") return stringLiteral(value, indent + 2);
  if (Array.isArray(value)) return `[${value.map((item) => tsLiteral(item, indent + 2)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{\n${entries.map(([key, item]) => `${JSON.stringify(key)}: ${tsLiteral(item, indent + 2)}`).join(",\n")}\n}`;
  }
  return JSON.stringify(value);
}

function stringLiteral(text: string, indent: number): string {
  // The piece, its quotes, and the " +" that follows it: all within the width, one level in.
  const width = LINE_WIDTH - indent - 2 - " +".length;
  const whole = JSON.stringify(text);
  if (whole.length <= width) return whole;
  const pieces: string[] = [];
  let piece = "";
  for (const word of text.split(/(?<= )/)) {
    if (piece !== "" && JSON.stringify(piece + word).length > width) {
      pieces.push(piece);
      piece = "";
    }
    piece += word;
  }
  pieces.push(piece);
  return pieces.map((p) => JSON.stringify(p)).join(" +\n");
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
