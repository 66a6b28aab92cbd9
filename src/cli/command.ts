/**
 * The typed command-line layer every subcommand is declared with: flag specs (boolean, string, repeated
 * string, comma list, number with bounds, enum with its choices), parsed by `node:util`'s `parseArgs`
 * into values whose TypeScript types follow from the specs, with one usage error (exit 2) per mistake
 * and a help page laid out with cliui.
 *
 * Why not a CLI library: cliffy is on JSR only, which this project cannot fetch; commander and yargs
 * type their results loosely (or need a second package for it) and call `process.exit` themselves,
 * while here every usage error must reach `main.ts` to become exit code 2, and commands are called
 * in-process by tests. `parseArgs` ships with Deno's Node compatibility; this file adds the types,
 * the validation and the help.
 *
 * @module
 */
import { parseArgs } from "node:util";
import cliui from "cliui";
import { UsageError } from "../core/errors.ts";

interface FlagBase {
  /** What the flag does, shown in help. */
  description: string;
  /** Single-letter alias. */
  short?: string;
  /** Placeholder for the value in help, e.g. `DIR`. */
  valueName?: string;
}

/** A switch: `true` when given. */
export interface BooleanFlag extends FlagBase {
  type: "boolean";
}

/** A string value; `D` is the default's type (`undefined` when there is none). */
export interface StringFlag<D extends string | undefined = string | undefined> extends FlagBase {
  type: "string";
  default: D;
}

/** A string flag that may be given many times; its value is the array of values (empty when absent). */
export interface RepeatedFlag extends FlagBase {
  type: "repeated";
}

/** A comma-separated list (`a,b`), trimmed, empty items dropped. */
export interface ListFlag extends FlagBase {
  type: "list";
}

/** A number with optional bounds. */
export interface NumberFlag<D extends number | undefined = number | undefined> extends FlagBase {
  type: "number";
  integer: boolean;
  min: number;
  max: number;
  default: D;
}

/** One of a fixed set of values (from a registry); help lists them, validation names them. */
export interface EnumFlag<
  C extends readonly string[] = readonly string[],
  D extends C[number] | undefined = C[number] | undefined,
> extends FlagBase {
  type: "enum";
  choices: C;
  default: D;
}

/** Any flag spec. */
export type FlagSpec = BooleanFlag | StringFlag | RepeatedFlag | ListFlag | NumberFlag | EnumFlag;

/** A command's flags, by long name (without dashes). */
export type FlagSpecs = Record<string, FlagSpec>;

/** The parsed value of one flag spec. */
export type FlagValue<S> = S extends BooleanFlag ? boolean
  : S extends RepeatedFlag ? string[]
  : S extends ListFlag ? string[] | undefined
  : S extends EnumFlag<infer C, infer D> ? (D extends undefined ? C[number] | undefined : C[number])
  : S extends NumberFlag<infer D> ? (D extends undefined ? number | undefined : number)
  : S extends StringFlag<infer D> ? (D extends undefined ? string | undefined : string)
  : never;

/** Parsed flags, typed after their specs, plus `help` and `debug` (every command has them). */
export type FlagValues<F extends FlagSpecs> = { [K in keyof F]: FlagValue<F[K]> } & {
  help: boolean;
  debug: boolean;
};

/** A switch. */
export function booleanFlag(description: string, short?: string): BooleanFlag {
  return { type: "boolean", description, short };
}

/** A string flag with an optional default. */
export function stringFlag<D extends string | undefined = undefined>(
  options: FlagBase & { default?: D },
): StringFlag<D> {
  return { ...options, type: "string", default: options.default as D };
}

/** A repeatable string flag. */
export function repeatedFlag(options: FlagBase): RepeatedFlag {
  return { ...options, type: "repeated" };
}

/** A comma-separated list flag. */
export function listFlag(options: FlagBase): ListFlag {
  return { ...options, type: "list" };
}

/** A number flag; `integer`, `min` and `max` are checked when parsing. */
export function numberFlag<D extends number | undefined = undefined>(
  options: FlagBase & { default?: D; integer?: boolean; min?: number; max?: number },
): NumberFlag<D> {
  const { integer = false, min = -Infinity, max = Infinity } = options;
  return { ...options, type: "number", integer, min, max, default: options.default as D };
}

/**
 * An enum flag whose choices come from a registry.
 *
 * @example
 * ```ts
 * const model = enumFlag(MODEL_NAMES, { description: "Model to train.", default: "vtadl" });
 * ```
 */
export function enumFlag<const C extends readonly string[], D extends C[number] | undefined = undefined>(
  choices: C,
  options: FlagBase & { default?: D },
): EnumFlag<C, D> {
  return { ...options, type: "enum", choices, default: options.default as D };
}

/** Flags every subcommand accepts. */
export const COMMON_FLAGS = {
  help: booleanFlag("Show this help and exit.", "h"),
  debug: booleanFlag("Show stack traces on errors."),
};

/** The parts of a command the CLI needs before it runs it. */
export interface CommandInfo {
  /** Name typed after `main.ts`, e.g. `metrics`. */
  name: string;
  /** One line, shown in the command list. */
  summary: string;
  /** Usage after the command name, e.g. `FILE.json [--limit L]`. */
  usage: string;
  /** Longer description shown in the command's help (optional). */
  description?: string;
  /** Allowed number of positional arguments. */
  positionals: { min: number; max: number; names?: string };
}

/** A command as declared: its flags, typed, and its `run`. */
export interface CommandDefinition<F extends FlagSpecs> extends CommandInfo {
  flags: F;
  /** Does the work; returns the process exit code. */
  run(flags: FlagValues<F>, positionals: string[]): Promise<number>;
}

/** A subcommand of `main.ts`. */
export interface Command<F extends FlagSpecs = FlagSpecs> extends CommandInfo {
  flags: F;
  /** Parses `argv` (usage errors as {@linkcode UsageError}). */
  parse(argv: string[]): { flags: FlagValues<F>; positionals: string[] };
  /** Parses `argv`, prints help for `--help`, else runs; returns the exit code. */
  main(argv: string[]): Promise<number>;
  /** The help page. */
  help(program?: string): string;
}

/**
 * Declares a subcommand.
 *
 * @example
 * ```ts
 * export const command = defineCommand({
 *   name: "hello", summary: "Greets", usage: "[--name N]", positionals: { min: 0, max: 0 },
 *   flags: { name: stringFlag({ description: "Who.", default: "world" }) },
 *   run(flags) { console.log(`hello ${flags.name}`); return Promise.resolve(0); },
 * });
 * ```
 */
export function defineCommand<F extends FlagSpecs>(definition: CommandDefinition<F>): Command<F> {
  const command: Command<F> = {
    ...definition,
    parse: (argv) => parseCommandArgs(definition, argv),
    help: (program) => renderCommandHelp(definition, program),
    async main(argv) {
      const { flags, positionals } = command.parse(argv);
      if (flags.help) {
        console.log(command.help());
        return 0;
      }
      return await definition.run(flags, positionals);
    },
  };
  return command;
}

/**
 * Joins `--flag -2` into `--flag=-2` for flags that take a value, so that a negative number reaches
 * the flag's own validation instead of `parseArgs`'s "argument is ambiguous".
 */
function joinNegativeValues(argv: string[], flags: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const spec = token.startsWith("--") ? flags[token.slice(2)] : undefined;
    const next = argv[i + 1];
    if (spec && spec.type !== "boolean" && next !== undefined && /^-[0-9.]/.test(next)) {
      out.push(`${token}=${next}`);
      i++;
    } else out.push(token);
  }
  return out;
}

function numberValue(name: string, raw: string, spec: NumberFlag): number {
  const value = Number(raw);
  if (
    raw.trim() === "" || !Number.isFinite(value) || value < spec.min || value > spec.max ||
    (spec.integer && !Number.isInteger(value))
  ) {
    const range = `${spec.integer ? "an integer" : "a number"}${
      spec.min > -Infinity ? ` ≥ ${spec.min}` : ""
    }${spec.max < Infinity ? `${spec.min > -Infinity ? " and" : ""} ≤ ${spec.max}` : ""}`;
    throw new UsageError(`--${name}: expected ${range}, got '${raw}'`);
  }
  return value;
}

/** Converts one raw `parseArgs` value by its spec. */
function convert(name: string, spec: FlagSpec, raw: string | boolean | string[] | undefined): unknown {
  switch (spec.type) {
    case "boolean":
      return raw === true;
    case "repeated":
      return (raw as string[] | undefined) ?? [];
    case "list":
      return raw === undefined
        ? undefined
        : (raw as string).split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "number":
      return raw === undefined ? spec.default : numberValue(name, raw as string, spec);
    case "enum": {
      if (raw === undefined) return spec.default;
      if (!spec.choices.includes(raw as string)) {
        throw new UsageError(`--${name}: expected one of ${spec.choices.join(", ")}, got '${raw}'`);
      }
      return raw;
    }
    case "string":
      return raw ?? spec.default;
  }
}

/**
 * Parses `argv` against a command's flags. Unknown flags, missing values, bad values and a wrong number
 * of positionals become a {@linkcode UsageError} with one clear line.
 *
 * @example
 * ```ts
 * const { flags, positionals } = parseCommandArgs(command, ["--limit", "0.3", "in.json"]);
 * ```
 */
export function parseCommandArgs<F extends FlagSpecs>(
  command: CommandInfo & { flags: F },
  argv: string[],
): { flags: FlagValues<F>; positionals: string[] } {
  const all: FlagSpecs = { ...COMMON_FLAGS, ...command.flags };
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      multiple: spec.type === "repeated",
    };
    if (spec.short) options[name].short = spec.short;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, all),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command.name}: ${message.split("\n")[0]} (see '${command.name} --help')`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) {
    return { flags: { help: true, debug: values.debug === true } as FlagValues<F>, positionals: [] };
  }
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(all)) flags[name] = convert(name, spec, values[name]);
  const n = parsed.positionals.length;
  const { min, max, names } = command.positionals;
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new UsageError(
      `${command.name}: expected ${expected} argument(s)${names ? ` (${names})` : ""}, got ${n}` +
        (n > 0 ? `: ${parsed.positionals.join(" ")}` : "") + ` (see '${command.name} --help')`,
    );
  }
  return { flags: flags as FlagValues<F>, positionals: parsed.positionals };
}

/**
 * Checks a positional argument against a registry's names.
 *
 * @example
 * ```ts
 * const dataset = oneOf("DATASET", positionals[0], DATASET_NAMES);
 * ```
 */
export function oneOf<const C extends readonly string[]>(what: string, value: string, choices: C): C[number] {
  if (!choices.includes(value)) {
    throw new UsageError(`${what}: expected one of ${choices.join(", ")}, got '${value}'`);
  }
  return value;
}

function helpSuffix(spec: FlagSpec): string {
  const parts: string[] = [];
  if (spec.type === "enum") parts.push(`One of: ${spec.choices.join(", ")}.`);
  if (spec.type === "repeated") parts.push("(repeatable)");
  if (
    spec.type !== "boolean" && spec.type !== "repeated" && spec.type !== "list" && spec.default !== undefined
  ) {
    parts.push(`[default: ${spec.default}]`);
  }
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

/** Renders a command's help page, laid out in columns with cliui. */
export function renderCommandHelp(
  command: CommandInfo & { flags: FlagSpecs },
  program = "vtadl-bench",
): string {
  const ui = cliui({ width: 100 });
  ui.div(`Usage: ${program} ${command.name} ${command.usage}`);
  ui.div({ text: command.summary, padding: [1, 0, 0, 0] });
  if (command.description) ui.div({ text: command.description, padding: [1, 0, 0, 0] });
  ui.div({ text: "Options:", padding: [1, 0, 0, 0] });
  for (const [name, spec] of Object.entries({ ...command.flags, ...COMMON_FLAGS })) {
    const value = spec.type === "boolean" ? "" : ` ${spec.valueName ?? "VALUE"}`;
    const short = spec.short ? `-${spec.short}, ` : "    ";
    ui.div(
      { text: `  ${short}--${name}${value}`, width: 34 },
      { text: `${spec.description}${helpSuffix(spec)}` },
    );
  }
  return ui.toString();
}
