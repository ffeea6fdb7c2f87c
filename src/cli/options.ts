/**
 * A command's flags as one table: the parser reads it (node:util
 * parseArgs, strict) and `--help` is written from it, so a flag cannot be
 * accepted without being documented, nor documented without being accepted.
 */
import { parseArgs } from "node:util";

/** One flag: how it is parsed, and its line in the help. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** What the value is called in the help ("N", "SECONDS"); string flags only. */
  readonly value?: string;
  readonly help: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The values parsed for `T`: strings or booleans, arrays when `multiple`. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]?: T[K]["type"] extends "boolean"
    ? T[K]["multiple"] extends true
      ? boolean[]
      : boolean
    : T[K]["multiple"] extends true
      ? string[]
      : string;
};

/** Parses `argv` against `table`; an unknown flag or a missing value throws (ERR_PARSE_ARGS_*). */
export function parseOptions<T extends OptionTable>(
  argv: readonly string[],
  table: T,
  allowPositionals: boolean,
): { values: OptionValues<T>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(table).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short !== undefined ? { short: o.short } : {}),
        ...(o.multiple === true ? { multiple: true } : {}),
      },
    ]),
  );
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals,
    strict: true,
  });
  return { values: values as OptionValues<T>, positionals };
}

const FLAG_COLUMN = 28;
const WIDTH = 79;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The flag as written in the help: `--jobs N, -J N`. */
function flagText(name: string, o: OptionSpec): string {
  const value = o.type === "string" ? ` ${o.value ?? "VALUE"}` : "";
  const short = o.short !== undefined ? `, -${o.short}${value}` : "";
  return `--${name}${value}${short}`;
}

/** The help lines of every flag in `table`, in its order. */
export function optionsHelp(table: OptionTable): string {
  const out: string[] = [];
  for (const [name, o] of Object.entries(table)) {
    const flag = `  ${flagText(name, o)}`;
    const text = wrap(
      `${o.help}${o.multiple === true ? " (may be repeated)" : ""}`,
      WIDTH - FLAG_COLUMN,
    );
    const [first = "", ...rest] = text;
    if (flag.length < FLAG_COLUMN - 1) out.push(`${flag.padEnd(FLAG_COLUMN)}${first}`);
    else out.push(flag, `${" ".repeat(FLAG_COLUMN)}${first}`);
    for (const l of rest) out.push(`${" ".repeat(FLAG_COLUMN)}${l}`);
  }
  return out.join("\n");
}
