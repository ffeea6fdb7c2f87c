/**
 * Static analysis of a sim's preferred content, before (and after) it
 * runs: each repository's wanted and required expression as git-annex
 * would read it, flagged when it does not parse (git-annex then treats it
 * as matching only what is present) or when git-annex's stability rule
 * refuses it (a negated `present` or expected-present term: content would
 * flow back and forth, so git-annex never lets it match).
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
    }
  }
  return problems;
}
