import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyseExpressions } from "./analysis.js";
import { Sim } from "./engine.js";
import { parseSimFile } from "./parse.js";
import { SimRecorder } from "./report.js";
import { formatReportHtml } from "./report-html.js";
import { formatReportText } from "./report-text.js";
import { SimState } from "./state.js";

/** A client that keeps only *.keep, two archives sharing the rest by size, numcopies 1. */
const ARCHIVE = `
seed 11
init client
init a1
init a2
connect client <-> a1
connect client <-> a2
group a1 archive
group a2 archive
wanted a1 sizebalanced=archive
wanted a2 sizebalanced=archive
wanted client include=*.keep
maxsize a1 200M
maxsize a2 500M
addmulti 40 .big 1M 20M client
add x.keep 5M client
stepstable 400
`;

function recorded(text: string, maxSamples?: number): { sim: Sim; recorder: SimRecorder } {
  let recorder: SimRecorder | undefined;
  const sim = new Sim({
    observer: (state) => {
      recorder = new SimRecorder(state, maxSamples === undefined ? {} : { maxSamples });
      return recorder;
    },
  });
  sim.start(parseSimFile(text));
  return { sim, recorder: recorder as SimRecorder };
}

describe("sim report", () => {
  it("counts what each repository holds, by its own records, and every move of the log", () => {
    const { sim, recorder } = recorded(ARCHIVE);
    const r = recorder.report();
    const st = sim.state;
    for (const repo of st.repos) {
      let keys = 0;
      let bytes = 0;
      for (let k = 0; k < st.keys.length; k++) {
        if (st.has(repo.id, repo.id, k)) {
          keys += 1;
          bytes += st.keySizes[k] as number;
        }
      }
      const got = r.repos.find((p) => p.name === repo.name);
      assert.deepEqual([got?.keys, got?.bytes], [keys, bytes], repo.name);
    }
    // Every outcome line of the log after the adds is one action.
    const after = st.history.findIndex((c) => c.kind === "stepstable");
    const outcomes = st.history.slice(after);
    const present = outcomes.filter((c) => c.kind === "present").length;
    const dropped = outcomes.filter((c) => c.kind === "notpresent").length;
    assert.ok(present > 0 && dropped > 0, `${present} transfers, ${dropped} drops`);
    assert.deepEqual([r.transfers.keys, r.drops.keys], [present, dropped]);
    assert.equal(r.actions, present + dropped);
    assert.equal(r.stable, true);
    assert.match(r.why, /stabilized after \d+ steps/);
    assert.deepEqual(r.overMaxSize, []);
    const moved = r.pairs.reduce((n, p) => n + p.keys, 0);
    assert.equal(moved, r.transfers.keys);
  });

  it("keeps a bounded series of samples that still adds up", () => {
    const { recorder } = recorded(ARCHIVE, 4);
    const r = recorder.report();
    assert.ok(r.samples.length <= 2 * 4 + 1, `${r.samples.length} samples`);
    assert.equal(r.samples[0]?.action, 0);
    assert.equal(r.samples[r.samples.length - 1]?.action, r.actions);
    const counted = r.samples.reduce((n, s) => n + s.transfers + s.drops, 0);
    assert.equal(counted, r.actions);
    for (let i = 1; i < r.samples.length; i++) {
      assert.ok((r.samples[i]?.action ?? 0) > (r.samples[i - 1]?.action ?? 0));
    }
    // The last sample is the end state.
    assert.deepEqual(
      r.samples[r.samples.length - 1]?.bytes,
      r.repos.map((p) => p.bytes),
    );
  });

  it("says a sim that ran out of steps needs more, and one that flip-flops why", () => {
    const short = recorded(ARCHIVE.replace("stepstable 400", "step 3")).recorder.report();
    assert.equal(short.stable, false);
    assert.match(short.why, /did not stabilize within 3 steps.*needs more steps/);

    // Driven directly: a copy dropped and got again, twice.
    const st = new SimState(1n);
    const a = st.addRepo("a", "uuid-a", false);
    const b = st.addRepo("b", "uuid-b", false);
    const key = st.addKey({ backend: "WORM", size: 10, name: "k" });
    st.setFile("f.dat", key);
    const rec = new SimRecorder(st);
    rec.added(a.id, key);
    rec.transferred(a.id, b.id, key);
    rec.dropped(b.id, key);
    rec.transferred(a.id, b.id, key);
    rec.dropped(b.id, key);
    rec.transferred(a.id, b.id, key);
    rec.dropped(b.id, key);
    rec.undo(); // the last drop is taken back
    rec.stepped(false, 6);
    const r = rec.report();
    assert.equal(r.actions, 5);
    assert.deepEqual(
      r.repos.map((p) => [p.name, p.keys, p.bytes]),
      [
        ["a", 1, 10],
        ["b", 1, 10],
      ],
    );
    assert.match(r.why, /1 copy was dropped and then got again.*f\.dat in b, back 2 times/);
  });

  it("reads as text and as a page with nothing outside it", () => {
    const { recorder } = recorded(ARCHIVE);
    const r = recorder.report();
    const text = formatReportText(r);
    assert.match(text, /^stable: it stabilized after/);
    assert.match(text, /^a1 +\d+ +[\d.]+ MB +200 MB +\d+%/m);
    assert.match(text, /^client -> a2 +\d+/m);
    const page = formatReportHtml(r, "window.Chart = function () {}; // </script> inside");
    assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(page, /<\/script> inside/);
    assert.doesNotMatch(page, /\bsrc=|\bhref=/);
  });

  it("flags before the run what git-annex's stability rule refuses, and nothing else", () => {
    const sim = new Sim({ seed: 1n });
    sim.start(
      parseSimFile(
        "init a\ninit b\ninit c\nwanted a present\nwanted b include=*.x and not present\n" +
          "group c g\ngroupwanted g present or copies=1\nwanted c not groupwanted\nrequired a include=*\n",
      ),
    );
    assert.deepEqual(analyseExpressions(sim), [
      "wanted b include=*.x and not present: that expression is not stable due to negated use of present, so will not be used",
      "wanted c not groupwanted: that expression is not stable due to negated use of groupwanted, so will not be used",
    ]);
  });

  it("flags a glob naming a directory, which git-annex's sim never matches", () => {
    const sim = new Sim({ seed: 1n });
    sim.start(
      parseSimFile(
        "init a\ninit b\nwanted a include=docs/* or include=*.mp3\nwanted b exclude=*/tmp/*\n",
      ),
    );
    assert.deepEqual(analyseExpressions(sim), [
      "wanted a include=docs/* or include=*.mp3: include=docs/* matches no file in git-annex's sim, which sees a file from the simulated repository's directory (../../../../FILE); a real repository would match it",
    ]);
  });
});
