/**
 * `annexgate maxsize [REPOSITORY [SIZE]] [--bytes] [--json]`, as
 * git-annex's (Command/MaxSize.hs): with no repository, a table of every
 * repository's size, maximum size and how full it is; with one, its
 * maximum size; with a size too, records it in maxsize.log.
 */
import { type AnnexBranch, readMaxSizes, recordMaxSize } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { currentRepoSizes, deadRepositories } from "../policy/index.js";
import { BadSizeError, parseSize, preciseSize, roughSize, showPercentage } from "../sizes/index.js";
import { NO_UUID_NEEDED, printError, withRepository, writeJson } from "./command.js";
import { type OptionTable, parseOptions } from "./options.js";
import {
  describe,
  jsonRepository,
  nameToUuid,
  type RepositoryNames,
  repositoryNames,
  sizesProgress,
} from "./repositories.js";
import { UsageError } from "./usage.js";

function padLeft(width: number, s: string): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

/** git-annex's table row: right-aligned columns, the last one after a space. */
function tableRow(cells: readonly [number, string][]): string {
  return cells
    .map(([w, s], i) => (i === cells.length - 1 ? ` ${s}` : `${padLeft(w, s)} `))
    .join("");
}

interface Row {
  readonly uuid: string;
  readonly size: bigint;
  readonly maxSize: bigint | null;
}

/** git-annex sorts by (maxsize, size) descending, UUIDs descending on ties. */
function compareRows(a: Row, b: Row): number {
  const cmp = (x: bigint | null, y: bigint | null) =>
    x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : x > y ? 1 : 0;
  return (
    cmp(b.maxSize, a.maxSize) ||
    cmp(b.size, a.size) ||
    (a.uuid < b.uuid ? 1 : a.uuid > b.uuid ? -1 : 0)
  );
}

async function overview(
  git: Git,
  branch: AnnexBranch,
  names: RepositoryNames,
  bytes: boolean,
  json: boolean,
): Promise<void> {
  const progress = sizesProgress();
  const { sizes } = await currentRepoSizes(git, progress);
  progress.done();
  const maxSizes = await readMaxSizes(branch);
  const dead = await deadRepositories(git);
  const all = new Map(sizes);
  for (const u of maxSizes.keys()) if (!all.has(u)) all.set(u, 0n);
  const rows: Row[] = [...all]
    .filter(([u]) => !dead.has(u))
    .map(([uuid, size]) => ({ uuid, size, maxSize: maxSizes.get(uuid) ?? null }))
    .sort(compareRows);
  if (json) {
    const repositories = rows.map((r) =>
      jsonRepository(names, r.uuid, {
        size: { maxsize: r.maxSize === null ? null : Number(r.maxSize), size: Number(r.size) },
      }),
    );
    writeJson({
      command: "maxsize",
      "error-messages": [],
      input: [],
      repositories,
      success: true,
    });
    return;
  }
  const fmt = (n: bigint | null) =>
    n === null ? "" : bytes ? n.toString() : roughSize(n, { short: true }, 0);
  const lines = [
    tableRow([
      [7, "size"],
      [7, "maxsize"],
      [6, "%full"],
      [0, "repository"],
    ]),
  ];
  for (const r of rows) {
    const pct =
      r.maxSize === null ? "" : r.size <= r.maxSize ? showPercentage(r.maxSize, r.size) : ">100%";
    const row = tableRow([
      [7, fmt(r.size)],
      [7, fmt(r.maxSize)],
      [6, pct],
      [0, ""],
    ]);
    lines.push(`${row}${describe(names, r.uuid)}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

export const MAXSIZE_OPTIONS = {
  bytes: { type: "boolean", help: "sizes in bytes, not rounded to units" },
  json: { type: "boolean", help: "JSON lines, as git annex maxsize --json" },
} as const satisfies OptionTable;

export async function maxsizeCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, MAXSIZE_OPTIONS, true);
  if (positionals.length > 2) throw new UsageError("Too many parameters");
  return withRepository(async ({ git, branch }) => {
    const names = await repositoryNames(git, branch);
    const [name, size] = positionals;
    const bytes = values.bytes === true;
    const json = values.json === true;
    if (name === undefined) {
      await overview(git, branch, names, bytes, json);
      return 0;
    }
    const uuid = nameToUuid(names, name);
    if (size === undefined) {
      const max = (await readMaxSizes(branch)).get(uuid);
      if (json) {
        writeJson({
          command: "maxsize",
          "error-messages": [],
          input: [name],
          maxsize: max === undefined ? null : Number(max),
          success: true,
        });
      } else {
        const shown =
          max === undefined ? "" : bytes ? max.toString() : preciseSize(max, { short: true });
        process.stdout.write(`${shown}\n`);
      }
      return 0;
    }
    let n: bigint;
    try {
      n = parseSize(size);
    } catch (err) {
      if (err instanceof BadSizeError) {
        if (!json) process.stdout.write(`maxsize ${name} \n`);
        printError("Unable to parse size.");
        if (!json) process.stdout.write("failed\n");
        return 1;
      }
      throw err;
    }
    await recordMaxSize(branch, uuid, n);
    if (json) {
      writeJson({
        command: "maxsize",
        "error-messages": [],
        input: [name, size],
        success: true,
      });
    } else {
      process.stdout.write(`maxsize ${name} ok\n`);
    }
    return 0;
  }, NO_UUID_NEEDED);
}
