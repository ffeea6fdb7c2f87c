/**
 * `step N` and `stepstable N` (Annex/Sim.hs `handleStep`): the candidate
 * actions are getwanted, sendwanted and dropunwantedfrom over every
 * connection of every repository, one component per file; components are
 * drawn at random (one draw from the sim's seed each) and run until one
 * acts, which is a step. When a whole round of candidates does nothing,
 * every connection syncs (git pull, then the same three actions, then git
 * push) and a round of those is tried; when that does nothing too, the
 * simulation has stabilized.
 *
 * git-annex's loop is kept as it is, including two of its quirks: a round
 * whose last remaining component acts counts as a round that did
 * nothing, and in the middle of a step that outcome is taken back (the
 * loop carries on from the state before the draw).
 */
import type { ActionContext, ActionGroup } from "./actions.js";
import { runComponent } from "./actions.js";
import { dropGroup, remoteGroup, syncGroups } from "./components.js";
import { SimError } from "./errors.js";
import { randomIndex, simRandom } from "./random.js";
import { codePointOrder, type SimState } from "./state.js";

/** Words of components per leaf of the Fenwick tree (512 components, one cache line of words). */
const BLOCK_WORDS = 16;

/**
 * A round of candidates: the components of `groups` (each group's files
 * in order, groups one after another), from which a drawn position is
 * taken out, keeping order. What is left is a bit per component in
 * 32-bit words, and a Fenwick tree of how many are left in each block of
 * 16 words: O(log n) a draw over a tree 512 times smaller than the
 * components (a round of hundreds of millions stays in cache), then a
 * count along one cache line of words.
 */
export class Candidates {
  readonly #offsets: number[] = [];
  readonly #words: Uint32Array;
  readonly #tree: Int32Array;
  readonly #topStep: number;
  remaining: number;

  constructor(readonly groups: readonly ActionGroup[]) {
    let total = 0;
    for (const g of groups) {
      this.#offsets.push(total);
      total += g.files.length;
    }
    this.remaining = total;
    const words = Math.ceil(total / 32);
    this.#words = new Uint32Array(words).fill(0xffffffff);
    if (total % 32 !== 0) this.#words[words - 1] = 2 ** (total % 32) - 1;
    // A Fenwick tree over the blocks' counts, built in O(blocks).
    const blocks = Math.ceil(words / BLOCK_WORDS);
    this.#tree = new Int32Array(blocks + 1);
    for (let i = 1; i <= blocks; i++) {
      const first = (i - 1) * BLOCK_WORDS * 32;
      this.#tree[i] = (this.#tree[i] as number) + Math.min(BLOCK_WORDS * 32, total - first);
      const up = i + (i & -i);
      if (up <= blocks) this.#tree[up] = (this.#tree[up] as number) + (this.#tree[i] as number);
    }
    let step = 1;
    while (step * 2 <= blocks) step *= 2;
    this.#topStep = blocks === 0 ? 0 : step;
  }

  /** Takes out the `index`th remaining component (from 0): its group and file index. */
  take(index: number): [ActionGroup, number] {
    const tree = this.#tree;
    const blocks = tree.length - 1;
    let block = 0;
    let rest = index + 1;
    for (let step = this.#topStep; step > 0; step >>= 1) {
      const next = block + step;
      if (next <= blocks && (tree[next] as number) < rest) {
        block = next;
        rest -= tree[next] as number;
      }
    }
    for (let j = block + 1; j <= blocks; j += j & -j) tree[j] = (tree[j] as number) - 1;
    const words = this.#words;
    let word = block * BLOCK_WORDS;
    for (;;) {
      const c = popCount(words[word] as number);
      if (rest <= c) break;
      rest -= c;
      word += 1;
    }
    const bit = selectBit(words[word] as number, rest);
    words[word] = ((words[word] as number) & ~(1 << bit)) >>> 0;
    this.remaining -= 1;
    const pos = word * 32 + bit;
    let lo = 0;
    let hi = this.#offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#offsets[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return [this.groups[lo] as ActionGroup, pos - (this.#offsets[lo] as number)];
  }
}

/** The position of the `rest`th set bit (from 1) of `x`, lowest first: halves, then bytes, nibbles, bits. */
function selectBit(x: number, rest: number): number {
  let bits = x;
  let r = rest;
  let shift = 0;
  let c = popCount(bits & 0xffff);
  if (r > c) {
    r -= c;
    bits >>>= 16;
    shift += 16;
  }
  c = popCount(bits & 0xff);
  if (r > c) {
    r -= c;
    bits >>>= 8;
    shift += 8;
  }
  c = popCount(bits & 0xf);
  if (r > c) {
    r -= c;
    bits >>>= 4;
    shift += 4;
  }
  for (let k = 1; k < r; k++) bits &= bits - 1;
  return shift + 31 - Math.clz32(bits & -bits);
}

function popCount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Sim.hs `runoneaction`: draws components until one acts. Its writes stay
 * recorded in the undo log, so the caller may take them back.
 */
export function runOneAction(ctx: ActionContext, cands: Candidates): boolean {
  const st = ctx.state;
  while (cands.remaining > 0) {
    const [index, next] = simRandom(st.seed, (g) => randomIndex(g, cands.remaining));
    st.seed = next;
    const [group, file] = cands.take(index);
    st.views.beginUndo();
    if (runComponent(ctx, group, file)) return true;
  }
  return false;
}

/** Repository ids in name order with their remotes' names, last name first (git-annex's order). */
function connectionsInOrder(st: SimState): [number, string, string[]][] {
  const out: [number, string, string[]][] = [];
  for (const u of st.reposByName()) {
    const remotes = [...(st.connections[u] ?? [])].sort(codePointOrder).reverse();
    out.push([u, st.repo(u).name, remotes]);
  }
  return out;
}

/**
 * The round of unsynced actions: for each repository (by name), each
 * remote (last first), dropunwantedfrom, sendwanted, getwanted; actions
 * git-annex would refuse are left out.
 */
export function unsyncedRound(st: SimState): Candidates {
  const groups: ActionGroup[] = [];
  const tryAdd = (make: () => ActionGroup): void => {
    try {
      groups.push(make());
    } catch (e) {
      // git-annex leaves out an action it cannot make (an unknown remote).
      if (!(e instanceof SimError)) throw e;
    }
  };
  for (const [, name, remotes] of connectionsInOrder(st)) {
    for (const remote of remotes) {
      tryAdd(() => dropGroup(st, name, remote));
      tryAdd(() => remoteGroup(st, "sendwanted", name, remote));
      tryAdd(() => remoteGroup(st, "getwanted", name, remote));
    }
  }
  return new Candidates(groups);
}

/**
 * The round of syncs: git pulls and pushes happen as the actions are
 * made (repositories last name first, remotes first name first), and the
 * components come in the same order as the unsynced round's, each sync's
 * getwanted, sendwanted, dropunwantedfrom in that order.
 */
export function syncRound(st: SimState): Candidates {
  const order = connectionsInOrder(st);
  const made = new Map<string, ActionGroup[]>();
  for (const [u, name, remotes] of [...order].reverse()) {
    for (const remote of [...remotes].reverse()) {
      const groups = syncGroups(st, name, remote);
      if (groups !== null) made.set(`${u}\0${remote}`, groups);
    }
  }
  const groups: ActionGroup[] = [];
  for (const [u, , remotes] of order) {
    for (const remote of remotes) groups.push(...(made.get(`${u}\0${remote}`) ?? []));
  }
  return new Candidates(groups);
}

/**
 * handleStep: runs up to `steps` steps; notes when the simulation
 * stabilizes; for `stepstable`, a simulation that does not stabilize
 * fails.
 */
export function handleStep(
  ctx: ActionContext,
  steps: number,
  mustStabilize: boolean,
  note: (message: string) => void,
): void {
  const st = ctx.state;
  let n = steps;
  for (;;) {
    if (n < 0) {
      notStable(ctx, steps, mustStabilize, note);
      return;
    }
    let round = unsyncedRound(st);
    runOneAction(ctx, round);
    if (round.remaining === 0) {
      round = syncRound(st);
      runOneAction(ctx, round);
      if (round.remaining === 0) {
        st.views.endUndo();
        ctx.observer?.stepped(true, steps - n);
        note(`Simulation has stabilized after ${steps - n} steps.`);
        return;
      }
    }
    // runrest: carry on with what is left of the round.
    let m = n - 1;
    for (;;) {
      if (m < 0) {
        notStable(ctx, steps, mustStabilize, note);
        return;
      }
      const seedBefore = st.seed;
      const acted = runOneAction(ctx, round);
      if (round.remaining === 0) {
        // git-annex goes on from the state before this draw.
        if (acted) st.views.rollback();
        st.seed = seedBefore;
        break;
      }
      m -= 1;
    }
    n = m;
  }
}

function notStable(
  ctx: ActionContext,
  steps: number,
  mustStabilize: boolean,
  note: (message: string) => void,
): void {
  const st = ctx.state;
  st.views.endUndo();
  ctx.observer?.stepped(false, steps);
  if (!mustStabilize) return;
  note(`Simulation failed to stabilize after ${steps} steps.`);
  st.failed = true;
}
