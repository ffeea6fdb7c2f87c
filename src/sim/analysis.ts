/**
 * Static analysis of a sim's preferred content, before (and after) it
 * runs: each repository's wanted and required expression as git-annex
 * would read it, flagged when it does not parse (git-annex then treats it
 * as matching only what is present) or when git-annex's stability rule
 * refuses it (a negated `present` or expected-present term: content would
 * flow back and forth, so git-annex never lets it match). Also flagged: a
 * glob naming a directory, which git-annex's sim matches against a path
 * seen from the simulated repository's directory (wanted.ts
 * stockMatchedPath), so it matches nothing there, unlike in a real
 * repository.
 */
import {
  parseForRepository,
  repositoryStability,
  stabilityOf,
} from "../preferred-content/index.js";
import type { Sim } from "./engine.js";

/** One sentence per problem, naming the repository and its expression; none when all is well. */
export function analyseExpressions(sim: Sim): string[] {
  const st = sim.state;
  const first = st.repos[0];
  if (first === undefined) return [];
  const policy = sim.wanted.policyOf(first.id);
  const problems: string[] = [];
  for (const u of st.reposByName()) {
    const repo = st.repo(u);
    for (const [which, expr] of [
      ["wanted", st.wanted.get(u)],
      ["required", st.required.get(u)],
    ] as const) {
      if (expr === undefined) continue;
      const parsed = parseForRepository(policy, repo.uuid, expr);
      const what = `${which} ${repo.name} ${expr}`;
      if (!parsed.ok) {
        problems.push(
          `${what}: does not parse (${parsed.errors.join("; ")}), so only what is present matches`,
        );
        continue;
      }
      const s =
        which === "wanted" ? repositoryStability(policy, repo.uuid) : stabilityOf(parsed.matcher);
      if (!s.stable) problems.push(`${what}: ${s.reason}`);
      for (const glob of directoryGlobs(expr)) {
        problems.push(
          `${what}: ${glob} matches no file in git-annex's sim, which sees a file from the ` +
            "simulated repository's directory (../../../../FILE); a real repository would match it",
        );
      }
    }
  }
  return problems;
}

/** The include=/exclude= globs of `expr` that name a directory from the top of the repository. */
function directoryGlobs(expr: string): string[] {
  const out: string[] = [];
  for (const m of expr.matchAll(/(?:^|[\s(])((?:include|exclude)=(\S+))/g)) {
    const glob = m[2] as string;
    if (glob.includes("/") && !/^[*?[]|^\.\.\//.test(glob)) out.push(m[1] as string);
  }
  return out;
}
