/**
 * Debian's chromium (scripts/setup-chromium.sh installs it), started
 * headless for the tests of web pages, and where their screenshots go.
 */
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { run } from "./index.js";

/** test-artifacts/ at the top of the checkout: screenshots for people to look at. */
export const ARTIFACTS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "test-artifacts",
);

/** Headless Chromium; a missing chromium fails the test (it is never skipped). */
export async function launchChromium(): Promise<Browser> {
  const path = (await run("sh", ["-c", "command -v chromium"]).catch(() => "")).trim();
  assert.ok(path !== "", "chromium is not installed: run scripts/setup-chromium.sh");
  return puppeteer.launch({
    executablePath: path,
    headless: true,
    // As root (CI), Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-gpu"],
  });
}

/**
 * A new tab that keeps what went wrong in it (console errors and
 * warnings, page errors, failed requests) and every URL it requested.
 */
export async function watchedTab(
  browser: Browser,
): Promise<{ tab: Page; problems: string[]; requests: string[] }> {
  const tab = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  tab.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn")
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  tab.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
  tab.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  tab.on("request", (r) => requests.push(r.url()));
  return { tab, problems, requests };
}
