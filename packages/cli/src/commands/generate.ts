import { relative, resolve } from "node:path";
import { findRepoRoot } from "@ferry/stack";
import { Command } from "commander";
import { note, say } from "../output.ts";

export function generateCommand(): Command {
  return new Command("generate")
    .description("generate the typed package an application imports from a contract (deterministic; --check for CI)")
    .argument("<contract>", "the contract file, e.g. contract/store.yaml")
    .option("--out <dir>", "the package folder to write (default: packages/<contract name>-data)")
    .option("--check", "write nothing; exit 1 when the committed files differ from what the contract generates")
    .action(async (file: string, options: { out?: string; check?: boolean }) => {
      const [{ loadValidContract }, { generate, staleFiles, writeFiles }] = await Promise.all([
        import("@ferry/contract"),
        import("@ferry/codegen"),
      ]);
      const root = findRepoRoot();
      const contract = await loadValidContract(file);
      const outDir = resolve(options.out ?? `packages/${contract.name}-data`);
      const contractPath = relative(root, resolve(file));
      const files = generate(contract, { contractPath, outDir: relative(root, outDir), root });
      const stale = staleFiles(files, outDir);
      if (options.check) {
        if (stale.length === 0) {
          say(`${relative(root, outDir)} is up to date with ${contractPath}`);
          return;
        }
        process.exitCode = 1;
        note(`${relative(root, outDir)} is stale: ${stale.join(", ")} differ from what ${contractPath} generates`);
        note(`run: pnpm ferry generate ${contractPath}`);
        return;
      }
      writeFiles(files, outDir);
      say(`generated ${relative(root, outDir)} from ${contractPath}: ${files.size} files, ${stale.length} changed`);
    });
}
