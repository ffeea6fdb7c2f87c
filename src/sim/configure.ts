/**
 * The sim commands that change configuration rather than content
 * (Annex/Sim.hs `applySimCommand'`): connections, trust, groups,
 * metadata, preferred and required content, maxsize, rebalance, cluster
 * nodes; with git-annex's checks and messages.
 */
import { checkPreferredContentExpression } from "../preferred-content/index.js";
import type { Connections, SimCommand } from "./commands.js";
import { firstConnection } from "./commands.js";
import { knownRepo } from "./components.js";
import { SimError } from "./errors.js";
import { parseModMeta } from "./metadata.js";
import { randomBool, randomRInt, simRandom } from "./random.js";
import type { SimState } from "./state.js";

/** checkValidPreferredContentExpression: the first expression that does not parse fails. */
export function checkExpressions(exprs: readonly string[]): void {
  for (const expr of exprs) {
    const e = checkPreferredContentExpression(expr);
    if (e !== null) throw new SimError(`Failed parsing "${expr}": ${e}`, { expression: expr });
  }
}

/** checkNonexistantRepo: the name is neither a repository nor a cluster node yet. */
export function checkNewName(st: SimState, name: string): void {
  if (st.repoByName.has(name)) {
    throw new SimError(`There is already a repository in the simulation named "${name}".`);
  }
  if (st.clusterNodes.has(name)) {
    throw new SimError(`There is already a cluster node in the simulation named "${name}".`);
  }
}

/** CommandConnect: each link of the chain gives a repository a remote. */
export function connect(st: SimState, c: Connections): void {
  let rest: Connections | null = c;
  while (rest !== null) {
    const step = firstConnection(rest);
    const u = knownRepo(st, step.repo);
    if (st.repo(u).special) {
      throw new SimError(`${step.repo} is a special remote, and cannot connect to ${step.remote}`);
    }
    st.connections[u]?.add(step.remote);
    rest = step.rest;
  }
}

/**
 * CommandDisconnect, as git-annex 10.20250416 has it: every link but the
 * last is removed (its last link returns the state from before that
 * link), so `disconnect a -> b` changes nothing.
 */
export function disconnect(st: SimState, c: Connections): void {
  let rest: Connections | null = c;
  while (rest !== null) {
    const step = firstConnection(rest);
    const u = knownRepo(st, step.repo);
    if (step.rest === null) return;
    st.connections[u]?.delete(step.remote);
    rest = step.rest;
  }
}

/**
 * Sim.hs `randomPreferredContentExpression'`: how many terms, then for
 * each a term, whether to negate it, and "and" or "or" before the ones
 * already drawn (the last drawn comes first).
 */
export function randomExpression(st: SimState, terms: readonly string[]): string {
  const [expr, next] = simRandom(st.seed, (g) => {
    const n = Number(randomRInt(g, 1n, BigInt(terms.length)));
    const parts: string[][] = [];
    for (let i = 0; i < n; i++) {
      const term = terms[Number(randomRInt(g, 0n, BigInt(terms.length - 1)))] as string;
      const notted = randomBool(g);
      const and = randomBool(g);
      const combiner = parts.length === 0 ? [] : [and ? "and" : "or"];
      parts.unshift(notted ? ["not", term, ...combiner] : [term, ...combiner]);
    }
    return parts.flat().join(" ");
  });
  st.seed = next;
  return expr;
}

type Configure<K extends SimCommand["kind"]> = (st: SimState, c: SimCommand & { kind: K }) => void;

/** A number of copies as git-annex configures it: below 1 means 1. */
function copiesOf(n: bigint): number {
  return n > 0n ? Number(n) : 1;
}

/** The configuration commands, by kind. Each bumps the configuration version. */
export const CONFIGURE: { readonly [K in SimCommand["kind"]]?: Configure<K> } = {
  connect: (st, c) => connect(st, c.connections),
  disconnect: (st, c) => disconnect(st, c.connections),
  seed: (st, c) => {
    st.seed = c.seed;
  },
  numcopies: (st, c) => {
    st.numcopies = copiesOf(c.copies);
  },
  mincopies: (st, c) => {
    st.mincopies = copiesOf(c.copies);
  },
  trustlevel: (st, c) => {
    st.trust.set(knownRepo(st, c.repo), c.level);
  },
  group: (st, c) => {
    const u = knownRepo(st, c.repo);
    const gs = st.groups.get(u) ?? new Set<string>();
    gs.add(c.group);
    st.groups.set(u, gs);
  },
  ungroup: (st, c) => {
    st.groups.get(knownRepo(st, c.repo))?.delete(c.group);
  },
  metadata: (st, c) => {
    // The change is parsed first: a bad field name is the error even for an unknown file.
    const change = parseModMeta(c.change);
    const key = st.files.get(c.file);
    if (key === undefined) {
      throw new SimError(`Cannot set metadata of unknown file ${c.file}`, { file: c.file });
    }
    st.metadata.change(key, change);
  },
  wanted: (st, c) => {
    const u = knownRepo(st, c.repo);
    checkExpressions([c.expression]);
    st.wanted.set(u, c.expression);
  },
  required: (st, c) => {
    const u = knownRepo(st, c.repo);
    checkExpressions([c.expression]);
    st.required.set(u, c.expression);
  },
  groupwanted: (st, c) => {
    checkExpressions([c.expression]);
    st.groupWanted.set(c.group, c.expression);
  },
  randomwanted: (st, c) => {
    const u = knownRepo(st, c.repo);
    checkExpressions(c.terms);
    st.wanted.set(u, randomExpression(st, c.terms));
  },
  randomrequired: (st, c) => {
    const u = knownRepo(st, c.repo);
    checkExpressions(c.terms);
    st.required.set(u, randomExpression(st, c.terms));
  },
  randomgroupwanted: (st, c) => {
    checkExpressions(c.terms);
    st.groupWanted.set(c.group, randomExpression(st, c.terms));
  },
  maxsize: (st, c) => {
    // Sizes are numbers from here on; past 2^53 bytes they lose their low digits.
    st.maxSizes.set(knownRepo(st, c.repo), Number(c.size));
  },
  rebalance: (st, c) => {
    st.rebalance = c.on;
  },
  clusternode: (st, c) => {
    const u = knownRepo(st, c.repo);
    checkNewName(st, c.node);
    st.clusterNodes.set(c.node, u);
  },
  comment: () => {},
  blank: () => {},
};
