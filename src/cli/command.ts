/**
 * The shape every subcommand of the vtadl-bench CLI shares: its flags (fed to `node:util` parseArgs and
 * to the help page), its positional arguments and its `run` function.
 *
 * @module
 */
import { parseArgs } from "node:util";
import cliui from "cliui";

/** One flag of a subcommand. */
export interface FlagSpec {
  /** `string` takes a value, `boolean` does not. */
  type: "string" | "boolean";
  /** What the flag does, shown in help. */
  description: string;
  /** Single-letter alias. */
  short?: string;
  /** Allow the flag more than once; its value is then a string array. */
  multiple?: boolean;
  /** Default shown in help and returned when the flag is absent. */
  default?: string | boolean | string[];
  /** Placeholder for the value in help, e.g. `DIR`. */
  valueName?: string;
}

/** Parsed flags: flag name → value. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** A subcommand of `main.ts`. */
export interface Command {
  /** Name typed after `main.ts`, e.g. `metrics`. */
  name: string;
  /** One line, shown in the command list. */
  summary: string;
  /** Usage after the command name, e.g. `FILE.json [--limit L]`. */
  usage: string;
  /** Longer description shown in the command's help (optional). */
  description?: string;
  /** Flags, keyed by long name (without dashes). `--help` and `--debug` are added for every command. */
  flags: Record<string, FlagSpec>;
  /** Allowed number of positional arguments. */
  positionals: { min: number; max: number; names?: string };
  /** Does the work; returns the process exit code. */
  run(flags: FlagValues, positionals: string[]): Promise<number>;
}

/** A mistake in how the command was called (bad flag, bad value). Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Flags every subcommand accepts. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  help: { type: "boolean", short: "h", description: "Show this help and exit." },
  debug: { type: "boolean", description: "Show stack traces on errors." },
};

/**
 * Parses `argv` against a command's flags. Unknown flags, missing values and a wrong number of
 * positionals become a {@linkcode UsageError} with one clear line.
 *
 * @example
 * ```ts
 * const { flags, positionals } = parseCommandArgs(command, ["--limit", "0.3", "in.json"]);
 * ```
 */
export function parseCommandArgs(
  command: Command,
  argv: string[],
): { flags: FlagValues; positionals: string[] } {
  const all = { ...COMMON_FLAGS, ...command.flags };
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = { type: spec.type, multiple: spec.multiple === true };
    if (spec.short) options[name].short = spec.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command.name}: ${message.split("\n")[0]} (see '${command.name} --help')`);
  }
  const flags = { ...parsed.values } as FlagValues;
  for (const [name, spec] of Object.entries(all)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  if (flags.help) return { flags, positionals: parsed.positionals };
  const n = parsed.positionals.length;
  const { min, max, names } = command.positionals;
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(
      `${command.name}: expected ${expected} argument(s)${names ? ` (${names})` : ""}, got ${n}` +
        (n > 0 ? `: ${parsed.positionals.join(" ")}` : "") + ` (see '${command.name} --help')`,
    );
  }
  return { flags, positionals: parsed.positionals };
}

/** Renders a command's help page, laid out in columns with cliui. */
export function renderCommandHelp(command: Command, program = "vtadl-bench"): string {
  const ui = cliui({ width: 100 });
  ui.div(`Usage: ${program} ${command.name} ${command.usage}`);
  ui.div({ text: command.summary, padding: [1, 0, 0, 0] });
  if (command.description) ui.div({ text: command.description, padding: [1, 0, 0, 0] });
  ui.div({ text: "Options:", padding: [1, 0, 0, 0] });
  for (const [name, spec] of Object.entries({ ...command.flags, ...COMMON_FLAGS })) {
    const value = spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : "";
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const dflt = spec.default !== undefined && spec.default !== false ? ` [default: ${spec.default}]` : "";
    const many = spec.multiple ? " (repeatable)" : "";
    ui.div(
      { text: `  ${short}--${name}${value}`, width: 34 },
      { text: `${spec.description}${many}${dflt}` },
    );
  }
  return ui.toString();
}

/** Reads a string flag as a number, with a clear usage error when it is not one. */
export function numberFlag(
  flags: FlagValues,
  name: string,
  { min = -Infinity, max = Infinity, integer = false }: { min?: number; max?: number; integer?: boolean } =
    {},
): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (
    typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value) || value < min || value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const range = `${integer ? "an integer" : "a number"}${min > -Infinity ? ` ≥ ${min}` : ""}${
      max < Infinity ? ` and ≤ ${max}` : ""
    }`;
    throw new UsageError(`--${name}: expected ${range}, got '${raw}'`);
  }
  return value;
}
