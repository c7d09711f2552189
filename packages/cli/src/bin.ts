#!/usr/bin/env -S node --import tsx
import { printError } from "./output.ts";
import { buildProgram } from "./program.ts";

// The SDK warns on every run that its 2027 releases will need Node 22; ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  printError(error);
  process.exitCode = 1;
}
