/// <reference lib="dom" />
/**
 * The example upload page's script, run in the browser: it asks the
 * gateway where it may upload (example/targets.json), and for a file
 * dropped or chosen it computes the git-annex key, uploads the file
 * through the client library (straight to the object store when the
 * gateway offers indirect uploads and the box is ticked), drawing the
 * progress as the bytes go out, then asks each repository the copy may
 * have landed in whether it has it now. The library is the bundle the
 * gateway serves beside this script; nothing is fetched from elsewhere.
 *
 * Elements carry data-* attributes with exact values (bytes sent, the
 * page's state, each repository's UUID and answer), so a test can read
 * what a person sees.
 */
import {
  AnnexClient,
  computeKey,
  connect,
  formatKey,
  type Key,
  type PutResult,
} from "./annexgate-client.js";
import type { ExampleTarget, ExampleTargets } from "./targets.js";

type State = "loading" | "ready" | "hashing" | "uploading" | "checking" | "done" | "error";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

function bytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`;
}

function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof kind)) throw new Error(`the page has no #${id}`);
  return e;
}

const ui = {
  app: byId("app", HTMLElement),
  target: byId("target", HTMLSelectElement),
  indirectChoice: byId("indirect-choice", HTMLLabelElement),
  indirect: byId("indirect", HTMLInputElement),
  drop: byId("drop", HTMLElement),
  file: byId("file", HTMLInputElement),
  upload: byId("upload", HTMLElement),
  fileName: byId("file-name", HTMLElement),
  key: byId("key", HTMLElement),
  progress: byId("progress", HTMLProgressElement),
  progressText: byId("progress-text", HTMLElement),
  status: byId("status", HTMLElement),
  locations: byId("locations", HTMLUListElement),
};

let offered: ExampleTargets = { targets: [], indirect: false };
let busy = false;

/** The p2phttp API's URL beside this page, its port always written out (the client's default is 9417). */
function apiUrl(): string {
  const api = new URL("git-annex/", document.baseURI);
  const port = api.port !== "" ? api.port : api.protocol === "https:" ? "443" : "80";
  return `annex+${api.protocol}//${api.hostname}:${port}${api.pathname}`;
}

function setState(state: State, message: string): void {
  ui.app.dataset.state = state;
  ui.status.textContent = message;
  ui.status.dataset.kind = state === "error" ? "error" : "info";
}

function showProgress(sent: number, total: number): void {
  ui.progress.max = Math.max(1, total);
  ui.progress.value = sent;
  ui.progress.dataset.sent = String(sent);
  ui.progress.dataset.total = String(total);
  const percent = total > 0 ? Math.floor((100 * sent) / total) : 100;
  ui.progressText.textContent = `${bytes(sent)} of ${bytes(total)} (${percent} %)`;
}

function chosenTarget(): ExampleTarget {
  const t = offered.targets.find((x) => x.uuid === ui.target.value);
  if (t === undefined) throw new Error("choose where to upload first");
  return t;
}

/** Asks each repository the copy may be in whether it has the key now, and lists the answers. */
async function showLocations(target: ExampleTarget, key: Key): Promise<number> {
  const url = apiUrl();
  const answers = await Promise.all(
    target.nodes.map(async (node) => {
      const present = await new AnnexClient({ url, uuid: node.uuid })
        .checkPresent(key)
        .catch(() => null);
      return { node, present };
    }),
  );
  ui.locations.replaceChildren(
    ...answers.map(({ node, present }) => {
      const li = document.createElement("li");
      li.dataset.uuid = node.uuid;
      li.dataset.name = node.name;
      li.dataset.present = present === null ? "unknown" : String(present);
      const uuid = document.createElement("span");
      uuid.className = "uuid";
      uuid.textContent = node.uuid;
      const state = present === null ? " (did not answer)" : present ? "" : " (not there)";
      li.append(`${node.name}${state}`, uuid);
      return li;
    }),
  );
  return answers.filter((a) => a.present === true).length;
}

async function upload(file: File): Promise<void> {
  const target = chosenTarget();
  ui.upload.hidden = false;
  ui.fileName.textContent = file.name;
  ui.key.textContent = "";
  ui.locations.replaceChildren();
  showProgress(0, file.size);
  setState("hashing", "computing the file's key…");
  const key = await computeKey(file, { fileName: file.name });
  ui.key.textContent = formatKey(key);
  const client = await connect({ url: apiUrl(), uuid: target.uuid });
  const indirect = offered.indirect && ui.indirect.checked;
  setState("uploading", `uploading into ${target.name}…`);
  const result: PutResult = await client.put(key, file, {
    associatedFile: file.name,
    onProgress: showProgress,
    indirect,
  });
  if (!result.stored) throw new Error(`${target.name} did not keep the file`);
  showProgress(file.size, file.size);
  setState("checking", "asking where the file is now…");
  const holders = await showLocations(target, key);
  ui.locations.dataset.key = formatKey(key);
  setState("done", `stored: ${holders} of ${target.nodes.length} repositories have it`);
}

function start(file: File | undefined): void {
  if (file === undefined || busy) return;
  busy = true;
  ui.file.disabled = true;
  upload(file)
    .catch((e: unknown) => setState("error", `failed: ${e instanceof Error ? e.message : e}`))
    .finally(() => {
      busy = false;
      ui.file.disabled = false;
      ui.file.value = "";
    });
}

function listTargets(t: ExampleTargets): void {
  offered = t;
  ui.target.replaceChildren(
    ...t.targets.map((x) => {
      const o = document.createElement("option");
      o.value = x.uuid;
      o.dataset.kind = x.kind;
      // Served repositories (several with --directory) are told apart by their UUIDs.
      const what =
        x.kind === "cluster"
          ? `cluster of ${x.nodes.length}`
          : x.kind === "repository"
            ? x.uuid.slice(0, 8)
            : x.kind;
      o.textContent = `${x.name} (${what})`;
      return o;
    }),
  );
  ui.indirectChoice.hidden = !t.indirect;
  ui.target.disabled = false;
  ui.file.disabled = false;
  setState("ready", t.targets.length > 0 ? "" : "the gateway offers nowhere to upload");
}

function wire(): void {
  ui.file.addEventListener("change", () => start(ui.file.files?.[0]));
  ui.drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.drop.addEventListener("drop", (e) => {
    e.preventDefault();
    ui.drop.classList.remove("over");
    start(e.dataTransfer?.files[0]);
  });
}

wire();
fetch(new URL("example/targets.json", document.baseURI))
  .then(async (res) => {
    if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
    listTargets((await res.json()) as ExampleTargets);
  })
  .catch((e: unknown) =>
    setState("error", `cannot list targets: ${e instanceof Error ? e.message : e}`),
  );
