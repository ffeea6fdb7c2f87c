import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Connections, SimCommand } from "./commands.js";
import { Sim } from "./engine.js";
import { SimError } from "./errors.js";

const MB = 1_000_000n;

const init = (repo: string): SimCommand => ({ kind: "init", repo });
const both = (repo1: string, repo2: string): Connections => ({ kind: "<->", repo1, repo2 });
const to = (repo: string, remote: string): Connections => ({ kind: "->", repo, remote });
/** A chain link `name -> …` or `name <- …`. */
function chain(kind: "=>" | "<=", name: string, rest: Connections): Connections {
  return kind === "=>" ? { kind, repo: name, next: rest } : { kind, remote: name, next: rest };
}
const wanted = (repo: string, expression: string): SimCommand => ({
  kind: "wanted",
  repo,
  expression,
});
const add = (file: string, size: bigint, ...repos: string[]): SimCommand => ({
  kind: "add",
  file,
  size,
  repos,
});

function run(commands: SimCommand[], seed = 1n): { sim: Sim; notes: string[] } {
  const notes: string[] = [];
  const sim = new Sim({ seed, note: (m) => notes.push(m) });
  sim.start(commands);
  return { sim, notes };
}

/** Who holds each file, by each holder's own records. */
function holders(sim: Sim): Map<string, string[]> {
  const st = sim.state;
  const out = new Map<string, string[]>();
  for (const f of st.sortedFiles()) {
    out.set(
      f.name,
      st.repos.filter((r) => st.has(r.id, r.id, f.key)).map((r) => r.name),
    );
  }
  return out;
}

describe("Sim", () => {
  it("moves a file to the repository that wants it and drops it where it is unwanted", () => {
    const { sim, notes } = run([
      init("a"),
      init("b"),
      { kind: "connect", connections: both("a", "b") },
      wanted("b", "anything"),
      add("f", MB, "a"),
      { kind: "stepstable", steps: 10n },
    ]);
    assert.deepEqual(holders(sim), new Map([["f", ["b"]]]));
    assert.match(notes.at(-1) ?? "", /^Simulation has stabilized after \d+ steps\.$/);
    assert.equal(sim.state.failed, false);
    const log = sim.state.history.filter((c) => c.kind === "present" || c.kind === "notpresent");
    assert.deepEqual(
      log.map((c) => c.kind),
      ["present", "notpresent"],
    );
  });

  it("keeps numcopies: with 2 wanted, the unwanted copy stays", () => {
    const { sim } = run([
      init("a"),
      init("b"),
      { kind: "connect", connections: both("a", "b") },
      { kind: "numcopies", copies: 2n },
      wanted("b", "anything"),
      add("f", MB, "a"),
      { kind: "stepstable", steps: 10n },
    ]);
    assert.deepEqual(holders(sim), new Map([["f", ["a", "b"]]]));
  });

  it("fails stepstable when it cannot stabilize in time", () => {
    const { sim, notes } = run([
      init("a"),
      init("b"),
      { kind: "connect", connections: to("a", "b") },
      wanted("b", "anything"),
      { kind: "addmulti", count: 5n, suffix: ".x", minSize: MB, maxSize: 2n * MB, repos: ["a"] },
      { kind: "stepstable", steps: 2n },
    ]);
    assert.equal(sim.state.failed, true);
    assert.equal(notes.at(-1), "Simulation failed to stabilize after 2 steps.");
  });

  it("is deterministic for a seed, and records the seed first", () => {
    const commands: SimCommand[] = [
      init("a"),
      init("b"),
      init("c"),
      // b <- a -> c
      { kind: "connect", connections: chain("<=", "b", to("a", "c")) },
      { kind: "group", repo: "b", group: "g" },
      { kind: "group", repo: "c", group: "g" },
      wanted("b", "balanced=g"),
      wanted("c", "balanced=g"),
      { kind: "addmulti", count: 30n, suffix: ".x", minSize: MB, maxSize: 9n * MB, repos: ["a"] },
      { kind: "step", steps: 100n },
    ];
    const one = run(commands, 42n).sim;
    const two = run(commands, 42n).sim;
    assert.deepEqual(one.state.history, two.state.history);
    assert.deepEqual(one.state.history[0], { kind: "seed", seed: 42n });
    assert.deepEqual(holders(one), holders(two));
    // Each file reached exactly one of the balanced pair.
    for (const [, hs] of holders(one)) {
      assert.equal(hs.filter((h) => h === "b" || h === "c").length, 1);
    }
  });

  it("respects maxsize under sizebalanced", () => {
    const { sim } = run([
      init("a"),
      init("b"),
      init("c"),
      { kind: "connect", connections: to("a", "b") },
      { kind: "connect", connections: to("a", "c") },
      { kind: "group", repo: "b", group: "g" },
      { kind: "group", repo: "c", group: "g" },
      wanted("b", "sizebalanced=g"),
      wanted("c", "sizebalanced=g"),
      { kind: "maxsize", repo: "b", size: 20n * MB },
      { kind: "maxsize", repo: "c", size: 50n * MB },
      { kind: "addmulti", count: 20n, suffix: ".x", minSize: MB, maxSize: 5n * MB, repos: ["a"] },
      { kind: "step", steps: 100n },
    ]);
    const st = sim.state;
    for (const name of ["b", "c"]) {
      const id = st.repoByName.get(name) as number;
      const bytes = st
        .sortedFiles()
        .filter((f) => st.has(id, id, f.key))
        .reduce((n, f) => n + (st.keySizes[f.key] ?? 0), 0);
      assert.ok(bytes <= (st.maxSizes.get(id) ?? 0), `${name} holds ${bytes}`);
    }
  });

  it("gives git-annex's errors for unknown repositories and remotes", () => {
    const sim = new Sim({ seed: 1n });
    sim.start([init("a"), init("b")]);
    assert.throws(
      () => sim.apply(wanted("zz", "anything")),
      (e: unknown) =>
        e instanceof SimError &&
        e.message === 'No repository in the simulation is named "zz". Choose from: a b',
    );
    assert.throws(
      () => sim.apply({ kind: "action", action: { kind: "getwanted", repo: "a", remote: "b" } }),
      /Repository a does not have a remote "b"\./,
    );
    assert.throws(() => sim.apply(init("a")), /already a repository in the simulation named "a"/);
  });

  it("keeps git-annex 10.20250416's disconnect, which leaves a chain's last link", () => {
    const sim = new Sim({ seed: 1n });
    sim.start([
      init("a"),
      init("b"),
      init("c"),
      { kind: "connect", connections: chain("=>", "a", to("b", "c")) },
      { kind: "disconnect", connections: chain("=>", "a", to("b", "c")) },
    ]);
    const st = sim.state;
    assert.deepEqual([...(st.connections[0] ?? [])], []);
    assert.deepEqual([...(st.connections[1] ?? [])], ["c"]);
  });

  it("checks present and notpresent against the repository's own records", () => {
    const { sim, notes } = run([init("a"), add("f", MB, "a")]);
    sim.apply({ kind: "present", repo: "a", file: "f" });
    assert.equal(sim.state.failed, false);
    sim.apply({ kind: "notpresent", repo: "a", file: "f" });
    assert.equal(sim.state.failed, true);
    assert.equal(notes.at(-1), "Expected f not to be present in a, but it is present.");
  });
});
