/**
 * vtadl-bench command line: `deno task <command>` or `deno run ... main.ts <command> [flags]`.
 *
 * Exit codes, decided here and nowhere else: 0 success, 1 failure (including a failed verification),
 * 2 usage error (any {@linkcode UsageError}: a bad flag or value, an unknown config, category or `--set`
 * key), 130 interrupted.
 *
 * @module
 */
import { COMMANDS } from "./src/cli/commands.ts";
import { UsageError } from "./src/core/errors.ts";

function renderCommandList(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "Usage: vtadl-bench <command> [flags]   (deno task <command> [flags])",
    "",
    "Commands:",
    ...lines,
    "",
    "Run '<command> --help' for a command's flags. Add --debug to see stack traces.",
  ].join("\n");
}

/** Runs the CLI on `argv` and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(renderCommandList());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    console.error(`error: unknown command '${name}'. Commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.main(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    if (debug) console.error(error);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
