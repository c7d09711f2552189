/**
 * docs/cli.md and docs/contract.md are generated from the command definitions and the contract's JSON Schema: the
 * committed pages must be what they generate now (`pnpm docs:generate` writes them), and they must say what the CLI and the
 * schema say.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { docPages, staleDocPages } from "../src/docs-pages.ts";
import { buildProgram } from "../src/program.ts";
import { repoRoot } from "./run-cli.ts";

describe("the generated docs", () => {
  it("are up to date (run pnpm docs:generate after changing a command or the contract's schema)", () => {
    expect(staleDocPages()).toEqual([]);
  });

  it("link only to their own headings (anchors as GitHub makes them)", () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, "")
        .replace(/ /g, "-");
    for (const page of docPages()) {
      const anchors = new Set([...page.text.matchAll(/^## (.+)$/gm)].map((match) => slug(match[1] ?? "")));
      const links = [...page.text.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1] ?? "");
      expect(links.length, page.path).toBeGreaterThan(10);
      expect(
        links.filter((link) => !anchors.has(link)),
        page.path,
      ).toEqual([]);
    }
  });

  it("hold every command's help, and every field of the contract's schema", () => {
    const [cli, contract] = docPages();
    const walk = (command: ReturnType<typeof buildProgram>, path: string): string[] => [
      path,
      ...command.commands.flatMap((sub) => walk(sub, `${path} ${sub.name()}`)),
    ];
    for (const path of walk(buildProgram(), "ferry")) {
      expect(cli?.text, path).toContain(`\n## ${path}\n`);
      expect(cli?.text, path).toContain(`Usage: ${path} `);
    }
    expect(cli?.text).toContain("  --resume                   resume the open run when an operator stopped it");
    const schema = JSON.parse(readFileSync(`${repoRoot}packages/contract/schema/contract.schema.json`, "utf8")) as {
      definitions: Record<string, { properties?: Record<string, unknown> }>;
    };
    for (const [name, definition] of Object.entries(schema.definitions)) {
      expect(contract?.text, name).toContain(`\n## ${name}\n`);
      for (const field of Object.keys(definition.properties ?? {})) {
        expect(contract?.text, `${name}.${field}`).toContain(`| \`${field}\` |`);
      }
    }
  });
});
