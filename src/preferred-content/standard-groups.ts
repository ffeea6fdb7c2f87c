/**
 * The standard groups and their preferred content expressions
 * (Types/StandardGroups.hs, doc/preferred_content/standard_groups). A
 * repository in exactly one standard group gets that group's expression
 * from the term "standard".
 */
export const STANDARD_GROUPS = [
  "client",
  "transfer",
  "backup",
  "incrementalbackup",
  "smallarchive",
  "archive",
  "source",
  "manual",
  "public",
  "unwanted",
] as const;

export type StandardGroup = (typeof STANDARD_GROUPS)[number];

export function isStandardGroup(g: string): g is StandardGroup {
  return (STANDARD_GROUPS as readonly string[]).includes(g);
}

const NOT_ARCHIVED = "not (copies=archive:1 or copies=smallarchive:1)";

// Content only on untrusted or dead repositories, or short of numcopies, is
// wanted by most standard groups as a last resort.
function lastResort(s: string): string {
  return `(${s}) or approxlackingcopies=1`;
}

const CLIENT = lastResort(
  `include=* and ((exclude=*/archive/* and exclude=archive/*) or (${NOT_ARCHIVED}))`,
);
const ARCHIVE = lastResort(NOT_ARCHIVED);

/** The preferred content expression of a standard group. */
export function standardExpression(g: StandardGroup): string {
  switch (g) {
    case "client":
      return CLIENT;
    case "transfer":
      return lastResort(`not (inallgroup=client and copies=client:2) and (${CLIENT})`);
    case "backup":
      return "anything";
    case "incrementalbackup":
      return lastResort("(not copies=backup:1) and (not copies=incrementalbackup:1)");
    case "smallarchive":
      return lastResort(`(include=*/archive/* or include=archive/*) and (${ARCHIVE})`);
    case "archive":
      return ARCHIVE;
    case "source":
      return "not (copies=1)";
    case "manual":
      return `present and (${CLIENT})`;
    case "public":
      return "inpreferreddir";
    case "unwanted":
      return "not anything";
  }
}

/** The one standard group among `groups`, or null when there are none or several. */
export function standardGroupOf(groups: Iterable<string>): StandardGroup | null {
  const found = [...groups].filter(isStandardGroup);
  return found.length === 1 ? (found[0] as StandardGroup) : null;
}
