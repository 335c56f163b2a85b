// Runs the stream view's ESM in jsdom with a fake anywidget model and prints what it saw as JSON.
// Usage: node stream_view_check.mjs <path to _stream_view.js> <path to jsdom's package folder>
import { pathToFileURL } from "node:url";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const [esmPath, jsdomDir] = process.argv.slice(2);
const require = createRequire(join(jsdomDir, "package.json"));
const { JSDOM } = require(jsdomDir);
const dom = new JSDOM("<!doctype html><body></body>");
globalThis.document = dom.window.document;
globalThis.window = dom.window;
globalThis.MutationObserver = dom.window.MutationObserver;

const dir = mkdtempSync(join(tmpdir(), "dsview-"));
const copy = join(dir, "view.mjs");
copyFileSync(esmPath, copy);
const widget = (await import(pathToFileURL(copy).href)).default;

function fakeModel(uid) {
  const handlers = new Set();
  const model = {
    sent: [],
    get: (key) => (key === "uid" ? uid : undefined),
    send: (msg) => model.sent.push(msg),
    on: (name, cb) => name === "msg:custom" && handlers.add(cb),
    off: (name, cb) => handlers.delete(cb),
    emit: (msg) => handlers.forEach((cb) => cb(msg)),
  };
  return model;
}

function mount(model) {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  const text = () => [...el.querySelectorAll(".deepsearch-group-body")].map((b) => b.textContent);
  const titles = () => [...el.querySelectorAll(".deepsearch-group-title")].map((s) => s.textContent);
  const open = () => [...el.querySelectorAll(".deepsearch-group")].map((d) => d.open);
  return { el, cleanup, text, titles, open };
}

const out = {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// 1. A fresh model: deltas in order, two views, and a view created later.
const m1 = fakeModel("one");
const stop1 = widget.initialize({ model: m1 });
m1.emit({ n: 0, g: [["g0", "Clarifying the question"]], a: [["g0", "Which "]], p: { stage: "clarifying" } });
const v1 = mount(m1);
m1.emit({ n: 1, a: [["g0", "region?"]], el: 3, live: true });
m1.emit({ n: 2, g: [["g1", "Writing - section 1"]], a: [["g1", "Costs fell."]], s: [[1, "Doc", "https://example.org/a"], [2, "Bad", "javascript:alert(1)"]] });
m1.emit({ n: 1, a: [["g0", "DUPLICATE"]] });
const v2 = mount(m1);
out.fresh = {
  view1: v1.text(),
  view2: v2.text(),
  titles: v2.titles(),
  open: v1.open(),
  progress: v1.el.querySelector(".deepsearch-progress-stage").textContent,
  clock: v1.el.querySelector(".deepsearch-elapsed").textContent,
  hrefs: [...v1.el.querySelectorAll(".deepsearch-sources li")].map((li) => li.querySelector("a")?.getAttribute("href") ?? null),
  sourcesTitle: v1.el.querySelector(".deepsearch-sources-title").textContent,
  sent: m1.sent,
};

// 2. A model created late: a gap in n asks for a snapshot once; what the snapshot holds is not applied twice.
const m2 = fakeModel("two");
const stop2 = widget.initialize({ model: m2 });
const v3 = mount(m2);
m2.emit({ n: 5, a: [["g0", " six"]] });
m2.emit({ n: 6, a: [["g0", " seven"]] });
const beforeSnapshot = v3.text();
m2.emit({ snap: true, n: 5, g: [["g0", "Writing"]], a: [["g0", "one two three four five six"]], s: [], p: {}, el: 9, live: false });
m2.emit({ n: 6, a: [["g0", " seven"]] });
m2.emit({ n: 7, a: [["g0", " eight"]] });
out.late = { before: beforeSnapshot, after: v3.text(), sent: m2.sent, clock: v3.el.querySelector(".deepsearch-elapsed").textContent };

// 3. A model that hears nothing asks for a snapshot after half a second.
const m3 = fakeModel("three");
const stop3 = widget.initialize({ model: m3 });
await sleep(650);
out.silent = { sent: m3.sent };

// 4. Light rendering: a heading line, citation tokens, and a group dropped (its text shown elsewhere).
const m4 = fakeModel("four");
const stop4 = widget.initialize({ model: m4 });
const v4 = mount(m4);
m4.emit({ n: 0, g: [["q", "Clarifying"], ["w", "Writing"]], a: [["q", "Which region?"], ["w", "# Costs\nPrices fell [citation:2]"]] });
m4.emit({ n: 1, a: [["w", " and rose [citation: 3, 4].\n\nMore."]] });
const headings = [...v4.el.querySelectorAll(".deepsearch-line-heading")].map((e) => e.textContent);
const cites = [...v4.el.querySelectorAll(".deepsearch-stream-cite")].map((e) => e.textContent);
const beforeDrop = v4.titles();
m4.emit({ n: 2, d: ["q"] });
out.light = { headings, cites, text: v4.text(), beforeDrop, afterDrop: v4.titles() };

// 5. The panel around a view: focus, Ctrl+Enter, Escape, accessible names (classes as the Python side sets).
document.body.innerHTML = "";
const panel = document.createElement("div");
panel.className = "deepsearch-panel";
panel.innerHTML = `
  <div class="deepsearch-panel-header"><button class="deepsearch-cancel" title="Stop the research run">Cancel</button></div>
  <div class="slot"></div>
  <div class="deepsearch-hitl" style="display: none">
    <div class="widget-textarea deepsearch-hitl-input" title="Your answer to the agent"><label>Answer</label><textarea></textarea></div>
    <button class="deepsearch-hitl-send deepsearch-hitl-submit" title="Send the text above to the agent">Send answer</button>
    <button class="deepsearch-hitl-accept" style="display: none" title="Accept the outline">Accept</button>
    <button class="deepsearch-hitl-replace" title="Use the outline JSON">Replace outline with this JSON</button>
  </div>`;
document.body.append(panel);
const outside = document.createElement("button");
document.body.append(outside);
const m5 = fakeModel("five");
const stop5 = widget.initialize({ model: m5 });
const slot = panel.querySelector(".slot");
const cleanup5 = widget.render({ model: m5, el: slot });
const settle = () => sleep(20);
await settle();
const box = panel.querySelector(".deepsearch-hitl");
const area = box.querySelector("textarea");
const clicks = [];
box.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => clicks.push(b.textContent)));
outside.focus();
box.style.display = "";
await settle();
const focusedOnQuestion = document.activeElement === area;
const key = (k, extra = {}) => area.dispatchEvent(new window.KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...extra }));
area.value = "Europe";
key("Enter", { ctrlKey: true });
await settle();
area.value = "";
box.querySelector(".deepsearch-hitl-send").style.display = "none";
box.querySelector(".deepsearch-hitl-accept").style.display = "";
key("Enter", { ctrlKey: true });
await settle();
// A mouse click on Send or Replace: the action goes with the text, in one message, and ipywidgets' own
// click handler (a listener on the button) never fires; a disabled button sends nothing.
const sendButton = box.querySelector(".deepsearch-hitl-send");
sendButton.style.display = "";
area.value = "Europe and North America";
sendButton.click();
await settle();
const clearedAfterClick = area.value === "";
area.value = '{"sections": []}';
box.querySelector(".deepsearch-hitl-replace").click();
area.value = "typed while busy";
sendButton.disabled = true;
sendButton.click();
sendButton.disabled = false;
await settle();
key("Escape");
const afterEscape = document.activeElement === panel;
area.focus();
area.disabled = true; // an answer was sent: the box is busy, then hidden
box.style.display = "none";
await settle();
const afterSend = document.activeElement === panel;
out.keys = {
  focusedOnQuestion,
  clicks,
  answers: m5.sent.filter((m) => m.event === "hitl"),
  afterEscape,
  clearedAfterClick,
  afterSend,
  labels: [...panel.querySelectorAll("button, textarea")].map((c) => c.getAttribute("aria-label")),
  region: [panel.getAttribute("role"), panel.getAttribute("aria-label")],
};
cleanup5();
stop4();
stop5();
v4.cleanup();

for (const v of [v1, v2, v3]) v.cleanup();
for (const stop of [stop1, stop2, stop3]) stop();
console.log(JSON.stringify(out));
process.exit(0);
