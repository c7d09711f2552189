/**
 * docs/cli.md, generated from the command definitions themselves: every command's help as `ferry <command> --help`
 * prints it (its arguments, options, and the text after them), at a fixed width and without colour, so the page never
 * says something the CLI does not. `pnpm docs:generate` writes it; a test fails when the committed page is stale.
 */
import type { Command } from "commander";
import { buildProgram } from "./program.ts";

/** The width the help is laid out at (a terminal's would make the page depend on who generated it). */
const WIDTH = 110;

function helpOf(command: Command): string {
  let out = "";
  command.configureOutput({
    writeOut: (text) => {
      out += text;
    },
    writeErr: (text) => {
      out += text;
    },
    getOutHelpWidth: () => WIDTH,
    getErrHelpWidth: () => WIDTH,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  command.outputHelp();
  return out.replace(/[ \t]+$/gm, "").trimEnd();
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

function walk(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walk)];
}

/** The CLI reference as Markdown: a list of the commands, then each one's help. */
export function cliReference(program: Command = buildProgram()): string {
  const commands = walk(program);
  const anchor = (command: Command) => commandPath(command).replace(/ /g, "-");
  const lines = [
    "# The ferry CLI",
    "",
    "<!-- Generated from the command definitions (packages/cli/src/reference.ts): run `pnpm docs:generate` after changing a",
    "command; a test fails while this page is stale. -->",
    "",
    "Every command as `pnpm ferry <command> --help` prints it.",
    "",
    ...commands.map(
      (command) =>
        `- [\`${commandPath(command)}\`](#${anchor(command)})${command.description() ? `: ${command.description()}` : ""}`,
    ),
    "",
  ];
  for (const command of commands) {
    lines.push(`## ${commandPath(command)}`, "", "```text", helpOf(command), "```", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
