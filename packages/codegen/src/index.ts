/**
 * @ferry/codegen: contract -> generated TypeScript and DynamoDB table definitions
 * (handlebars gives files their shape, ts-morph builds and checks the code, Biome formats it).
 */
export { type GeneratedFiles, type GenerateOptions, generate, staleFiles, writeFiles } from "./generate/generate.ts";
export { FERRY_VERSION, generatedNotice } from "./notice.ts";
