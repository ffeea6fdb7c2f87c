/**
 * The sim report's HTML page in real headless Chromium (Debian's package,
 * which scripts/setup-chromium.sh installs): written by `annexgate sim
 * report --html`, it must render its three charts with no error in the
 * console or the page and no request beyond the page itself. A screenshot
 * is kept in test-artifacts/ for people to look at.
 */
import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser } from "puppeteer-core";
import { ARTIFACTS, launchChromium, watchedTab } from "../helpers/chromium.js";
import { makeTempDir, removeDir, run } from "../helpers/index.js";
import { ANNEXGATE_BIN } from "../helpers/servers.js";

const SIM = `seed 11
init client
init a1
init a2
init a3
connect client <-> a1
connect client <-> a2
connect client <-> a3
group a1 archive
group a2 archive
group a3 archive
groupwanted archive balanced=archive:2
wanted a1 groupwanted
wanted a2 groupwanted
wanted a3 groupwanted
wanted client include=*.keep
maxsize a1 300M
maxsize a2 300M
maxsize a3 600M
numcopies 2
addmulti 60 .big 1M 20M client
add x.keep 5M client
stepstable 1000
`;

describe("sim report --html in headless Chromium", () => {
  let dir = "";
  let browser: Browser;
  before(async () => {
    dir = await makeTempDir("annexgate-simreport-");
    await run("git", ["init", "-q", dir]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await removeDir(dir);
  });

  it("renders its charts, with no errors and no requests", async () => {
    const simFile = join(dir, "archive.sim");
    const page = join(dir, "report.html");
    await writeFile(simFile, SIM);
    const text = await run(
      process.execPath,
      [ANNEXGATE_BIN, "sim", "report", "--html", page, simFile],
      {
        cwd: dir,
      },
    );
    assert.match(text, /^stable: /);

    const { tab, problems, requests } = await watchedTab(browser);
    await tab.setViewport({ width: 1100, height: 1600 });
    const url = pathToFileURL(page).href;
    await tab.goto(url, { waitUntil: "load" });
    await tab.waitForSelector('body[data-charts="3"]', { timeout: 30_000 });

    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [url], "the page loads nothing but itself");
    // Each chart drew something: many non-blank pixels on each canvas.
    const inked = await tab.$$eval("canvas", (canvases) =>
      canvases.map((c) => {
        const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? [];
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++;
        return n;
      }),
    );
    assert.equal(inked.length, 3);
    for (const n of inked) assert.ok(n > 2000, `a chart with ${n} inked pixels`);
    const verdict = await tab.$eval("#verdict", (e) => e.textContent ?? "");
    assert.match(verdict, /^stable: it stabilized after \d+ steps/);

    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "sim-report.png");
    await tab.screenshot({ path: shot as `${string}.png`, fullPage: true });
    assert.ok((await stat(shot)).size > 10_000);
    await tab.close();
  });
});
