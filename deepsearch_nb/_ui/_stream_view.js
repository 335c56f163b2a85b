// deepsearch_nb stream view (anywidget ESM, no build step).
//
// The kernel never resends text: each custom message carries only what is new since the previous one
// ({n, g: new groups, a: appends, s: new sources, p: progress, el: elapsed seconds, live}), numbered by
// a serial n. The text is kept once per MODEL (initialize), so every view of it - and a view created
// later - shows all of it. A model that missed messages (created by a page reload while the kernel runs,
// or messages that arrived before this module loaded) sees a gap in n, or nothing at all, and asks the
// kernel once for a snapshot; messages already contained in the snapshot are dropped.
//
// The text is shown lightly rendered: a "# Heading" line as a heading, "[citation:2]" as a small [2].
// The view also looks after the panel around it (PanelKeys): focus moves into the question box when a
// question arrives and stays in the panel after an answer is sent, Ctrl+Enter sends, Escape leaves the box,
// and every control gets an accessible name.

const stores = new Map();

function newStore() {
  return {
    n: -1,
    gap: false,
    early: [],
    groups: [],
    byId: new Map(),
    sources: [],
    progress: {},
    elapsed: 0,
    at: 0,
    live: true,
    views: new Set(),
  };
}

function storeFor(model) {
  const uid = model.get("uid");
  let store = stores.get(uid);
  if (store === undefined) {
    store = newStore();
    stores.set(uid, store);
  }
  return store;
}

function applyDelta(store, msg) {
  if (typeof msg.n === "number") {
    if (msg.n <= store.n) return;
    store.n = msg.n;
  }
  for (const [id, title] of msg.g || []) {
    if (!store.byId.has(id)) {
      const group = { id, title, text: "" };
      store.byId.set(id, group);
      store.groups.push(group);
    }
  }
  for (const [id, text] of msg.a || []) {
    const group = store.byId.get(id);
    if (group !== undefined) group.text += text;
  }
  for (const id of msg.d || []) {
    if (store.byId.delete(id)) store.groups = store.groups.filter((g) => g.id !== id);
    store.dropped = true; // the stream said something (now shown elsewhere): not "waiting for words"
  }
  for (const source of msg.s || []) store.sources.push(source);
  if (msg.p) Object.assign(store.progress, msg.p);
  if (typeof msg.el === "number") {
    store.elapsed = msg.el;
    store.at = Date.now();
  }
  if (typeof msg.live === "boolean") store.live = msg.live;
}

function applySnapshot(store, snap) {
  if (!store.gap && snap.n <= store.n) return; // nothing was missed: the deltas already hold it all
  const { views, early } = store;
  Object.assign(store, newStore(), { views });
  applyDelta(store, { ...snap, n: undefined });
  store.n = snap.n;
  for (const msg of early) applyDelta(store, msg);
}

function onMessage(store, model, msg) {
  if (msg.snap) {
    applySnapshot(store, msg);
  } else if (typeof msg.n === "number" && msg.n <= store.n) {
    return;
  } else if (store.gap || (typeof msg.n === "number" && msg.n !== store.n + 1)) {
    if (!store.gap) {
      store.gap = true;
      model.send({ event: "hello", n: store.n });
    }
    store.early.push(msg);
    return;
  } else {
    applyDelta(store, msg);
  }
  for (const view of store.views) view.sync();
}

function fmtElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

function safeHref(url) {
  return /^https?:\/\//i.test(url) ? url : null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const HEADING = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const CITE = /\[citation:\s*(\d+(?:\s*[,\uff0c]\s*\d+)*)\s*\]/gi;

// One line of streamed Markdown, lightly: headings stand out, citation tokens become a small [2], bold
// markers go. Anything else stays text (never HTML: the stream is untrusted).
function renderLine(node, line) {
  const match = HEADING.exec(line);
  node.className = match ? "deepsearch-line deepsearch-line-heading" : "deepsearch-line";
  const text = (match ? match[1] : line).replace(/\*\*|__/g, "");
  const parts = [];
  let last = 0;
  for (const cite of text.matchAll(CITE)) {
    if (cite.index > last) parts.push(text.slice(last, cite.index));
    parts.push(el("sup", "deepsearch-stream-cite", `[${cite[1].split(/\s*[,\uff0c]\s*/).join(", ")}]`));
    last = cite.index + cite[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  node.replaceChildren(...parts);
}

// The answer a button of the question box stands for (its class, as the Python side sets it), or null.
const HITL_ACTIONS = ["send", "accept", "revise", "replace"];
function hitlAction(button) {
  return HITL_ACTIONS.find((a) => button.classList.contains(`deepsearch-hitl-${a}`)) || null;
}

// Shown = no ancestor (up to the document) is display:none; ipywidgets hides with an inline style.
function rendered(node) {
  for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
    if (n.hidden || window.getComputedStyle(n).display === "none") return false;
  }
  return !!node && node.isConnected;
}

// The keyboard and screen-reader side of the panel this view sits in (one per panel, whichever view
// finds it first). It only reads classes the Python side sets, so it works with any ipywidgets version.
const panelKeys = new WeakMap();

class PanelKeys {
  constructor(panel, model) {
    this.panel = panel;
    this.model = model;
    this.boxShown = false;
    this.stepShown = false;
    this.stepPause = "";
    this.lastFocused = null;
    if (!panel.hasAttribute("tabindex")) panel.setAttribute("tabindex", "-1");
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-label", "Research run");
    // JupyterLab's shortcuts skip keys from inside the panel: a key that lands on the panel itself (the
    // focus falls back to it while the step bar re-renders between two pauses) must not run the cell.
    panel.setAttribute("data-lm-suppress-shortcuts", "");
    panel.addEventListener("focusin", (e) => {
      this.lastFocused = e.target;
    });
    // Capture: ipywidgets' text areas stop their key events from reaching the notebook.
    panel.addEventListener("keydown", (e) => this.onKey(e), true);
    // Capture too: a click on an answer button is taken before ipywidgets' own handler sees it.
    panel.addEventListener("click", (e) => this.onClick(e), true);
    this.windowKeys = (e) => this.onWindowKey(e);
    window.addEventListener("keydown", this.windowKeys, true);
    this.observer = new MutationObserver(() => this.check());
    this.observer.observe(panel, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["style", "class", "disabled", "title"],
    });
    this.check();
  }

  box() {
    return this.panel.querySelector(".deepsearch-hitl");
  }

  // Step keys are taken on the window, before JupyterLab's own shortcuts (listening on the document):
  // Ctrl+Enter on a focused button of an output would otherwise also run the cell again.
  onWindowKey(e) {
    if (!this.panel.isConnected) {
      window.removeEventListener("keydown", this.windowKeys, true);
      return;
    }
    const target = e.target;
    if (target && target.closest && this.panel.contains(target) && target.closest(".deepsearch-step")) {
      this.onStepKey(e, target);
    }
  }

  onKey(e) {
    const target = e.target;
    if (!target || target.tagName !== "TEXTAREA" || !target.closest(".deepsearch-hitl")) return;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      this.send(target);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.panel.focus();
    }
  }

  // A step pause: Ctrl+Enter in a field applies the edit (Save plan, Drop unticked sources, Rewrite),
  // elsewhere it continues; Escape leaves the field for Continue (the edit is not sent).
  onStepKey(e, target) {
    const step = target.closest(".deepsearch-step");
    const usable = (selector) => {
      const b = step.querySelector(selector);
      return b && rendered(b) && !b.disabled ? b : null;
    };
    const field = /^(INPUT|TEXTAREA)$/.test(target.tagName); // a text field or a source's checkbox
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      const button = (field && usable(".deepsearch-step-edit")) || usable(".deepsearch-step-continue");
      // The fields sync on "change" only: commit the typed value first, so it reaches the kernel before
      // the click (ipywidgets sends a click at once but may hold value updates back behind earlier ones).
      if (field && target.type !== "checkbox") target.dispatchEvent(new Event("change", { bubbles: true }));
      if (button) button.click();
    } else if (e.key === "Escape" && field) {
      e.preventDefault();
      e.stopPropagation();
      const next = usable(".deepsearch-step-continue");
      if (next) next.focus();
      else this.panel.focus();
    }
  }

  // A click (mouse, or Space/Enter on the focused button) on Send, Accept, Revise or Replace: the action
  // goes with the text area's text, as Ctrl+Enter's does. ipywidgets sends a click at once but may hold a
  // text area's value update back behind an earlier one still unanswered, so a click that left the text
  // to the kernel could arrive before the last keystrokes (seen in the browser: an answer without its
  // last words).
  onClick(e) {
    const button = e.target && e.target.closest ? e.target.closest("button") : null;
    const box = button ? button.closest(".deepsearch-hitl") : null;
    const action = box ? hitlAction(button) : null;
    if (!action || !this.model || !this.panel.contains(box)) return;
    e.preventDefault();
    e.stopPropagation();
    if (button.disabled) return;
    const input = box.querySelector("textarea");
    this.hand(input, action, input ? input.value : "");
  }

  // Ctrl+Enter: with text, Send (or Revise at the outline); without, Accept (or Send where there is none).
  send(input) {
    const box = input.closest(".deepsearch-hitl");
    const usable = (selector) =>
      [...box.querySelectorAll(selector)].find((b) => rendered(b) && !b.disabled) || null;
    const text = input.value;
    const button = text.trim()
      ? usable(".deepsearch-hitl-send") || usable(".deepsearch-hitl-revise")
      : usable(".deepsearch-hitl-accept") || usable(".deepsearch-hitl-send");
    if (!button) return;
    if (!this.model) {
      button.click();
      return;
    }
    this.hand(input, hitlAction(button), text);
  }

  // The action and the text travel together on this view's channel, in one message.
  hand(input, action, text) {
    this.model.send({ event: "hitl", action, text });
    if (!input) return;
    // Sent: empty the box now (and tell its model), so a late value update cannot bring the old answer
    // back into the next question's box.
    input.value = "";
    input.dispatchEvent(new input.ownerDocument.defaultView.Event("input", { bubbles: true }));
  }

  // Whether a new question may take the focus: not from someone typing elsewhere (an empty cell is fine).
  mayTakeFocus() {
    const active = document.activeElement;
    if (!active || active === document.body || this.panel.contains(active)) return true;
    const editing = active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    return !editing || (active.isContentEditable && !active.textContent.trim());
  }

  check() {
    this.label();
    this.collapsible();
    // A step pause: Continue takes the focus when the pause appears, or when the focus fell back to the
    // panel (the button pressed for the last pause was disabled while the run went on).
    const step = this.panel.querySelector(".deepsearch-step");
    // JupyterLab's shortcuts skip keys from inside it (Ctrl+Enter on a focused button would run the cell).
    if (step && !step.hasAttribute("data-lm-suppress-shortcuts")) step.setAttribute("data-lm-suppress-shortcuts", "");
    const stepShown = rendered(step);
    const next = stepShown ? step.querySelector(".deepsearch-step-continue") : null;
    const adrift = document.activeElement === this.panel;
    // A new pause (its label changed) takes the focus too, even when the bar stayed shown in between.
    const pause = stepShown ? (step.querySelector(".deepsearch-step-info") || step).textContent : "";
    const fresh = stepShown && pause !== this.stepPause;
    if (next && !next.disabled && rendered(next) && (!this.stepShown || adrift || fresh) && this.mayTakeFocus()) {
      if (fresh || document.activeElement !== next) next.focus();
      this.stepPause = pause;
    }
    this.stepShown = stepShown;
    const box = this.box();
    const shown = rendered(box);
    const input = box ? box.querySelector("textarea") : null;
    if (shown && !this.boxShown) {
      this.boxShown = true;
      if (input && this.mayTakeFocus()) input.focus();
      return;
    }
    this.boxShown = shown;
    // The control that had the focus was disabled or hidden (an answer was sent): keep it in the panel.
    const last = this.lastFocused;
    const active = document.activeElement;
    const lost = !active || active === document.body || active === last;
    if (last && this.panel.contains(last) && lost && (last.disabled || !rendered(last))) {
      this.lastFocused = null;
      if (shown && input && !input.disabled) input.focus();
      else this.panel.focus();
    }
  }

  // ipywidgets' accordion header is a plain div: make it a button a keyboard can reach and press.
  collapsible() {
    for (const header of this.panel.querySelectorAll(".jupyter-widget-Collapse-header")) {
      const open = !!header.parentElement && header.parentElement.classList.contains("jupyter-widget-Collapse-open");
      if (header.getAttribute("aria-expanded") !== String(open)) header.setAttribute("aria-expanded", String(open));
      if (header.dataset.dsKeys === "1") continue;
      header.dataset.dsKeys = "1";
      header.setAttribute("tabindex", "0");
      header.setAttribute("role", "button");
      header.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          header.click();
        }
      });
    }
  }

  // Accessible names: the visible text plus what the tooltip adds ("Cancel: Stop the research run"); the
  // name starts with the visible text, so speech control ("click Cancel") still finds it.
  label() {
    const controls = this.panel.querySelectorAll(
      "button, textarea, input, select, .lm-AccordionPanel-title, .widget-accordion-title"
    );
    for (const control of controls) {
      if (control.hasAttribute("aria-label") && control.dataset.dsLabel !== "1") continue;
      const holder = control.closest(".widget-textarea, .widget-text") || control;
      const label = holder.querySelector ? holder.querySelector("label") : null;
      const visible = (control.tagName === "TEXTAREA" || control.tagName === "INPUT" ? label?.textContent : control.textContent) || "";
      const tip = control.getAttribute("title") || holder.getAttribute("title") || control.getAttribute("placeholder") || "";
      const text = visible.trim();
      const name = !text || !tip ? text || tip : tip.startsWith(text) ? tip : `${text}: ${tip}`;
      if (name && control.getAttribute("aria-label") !== name) {
        control.setAttribute("aria-label", name);
        control.dataset.dsLabel = "1";
      }
    }
  }
}

function findPanel(root, view) {
  const panel = root.closest(".deepsearch-panel");
  if (panel) {
    if (!panelKeys.has(panel)) panelKeys.set(panel, new PanelKeys(panel, view.model));
    return;
  }
  // Not attached yet: a view is rendered before it is put in its box.
  if (view.tries++ < 100) view.finder = setTimeout(() => findPanel(root, view), 100);
}

class View {
  constructor(store, root, model) {
    this.store = store;
    this.model = model;
    this.root = root;
    root.classList.add("deepsearch-stream-root");
    this.progress = el("div", "deepsearch-progress");
    this.progress.setAttribute("aria-live", "off");
    this.stage = el("span", "deepsearch-progress-stage");
    this.detail = el("span", "deepsearch-progress-detail");
    this.clock = el("span", "deepsearch-elapsed");
    this.clock.setAttribute("aria-label", "Elapsed time");
    this.progress.append(this.stage, this.detail, this.clock);
    this.log = el("div", "deepsearch-stream");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-label", "What the agent is writing, by stage");
    this.empty = el("p", "deepsearch-stream-empty", "Waiting for the agent's first words...");
    this.log.append(this.empty);
    this.sourcesBox = el("details", "deepsearch-sources-box");
    this.sourcesTitle = el("summary", "deepsearch-sources-title", "Sources found (0)");
    this.sourcesList = el("ol", "deepsearch-sources");
    this.sourcesList.setAttribute("aria-label", "Sources found");
    this.sourcesBox.append(this.sourcesTitle, this.sourcesList);
    this.sourcesBox.hidden = true;
    root.append(this.progress, this.log, this.sourcesBox);
    this.rendered = [];
    this.sourceCount = 0;
    this.timer = setInterval(() => this.tick(), 1000);
    this.tries = 0;
    this.finder = null;
    this.sync();
    findPanel(root, this);
  }

  reset() {
    for (const item of this.rendered) item.details.remove();
    this.rendered = [];
    this.sourcesList.replaceChildren();
    this.sourceCount = 0;
  }

  sync() {
    const store = this.store;
    if (this.rendered.length > store.groups.length) this.reset();
    for (let i = 0; i < store.groups.length; i++) {
      const group = store.groups[i];
      let item = this.rendered[i];
      if (item === undefined || item.id !== group.id) {
        if (item !== undefined) this.reset();
        item = this.addGroup(group);
      }
      if (item.len < group.text.length) {
        const atBottom = item.body.scrollHeight - item.body.scrollTop - item.body.clientHeight < 24;
        const lines = (item.pending + group.text.slice(item.len)).split("\n");
        item.len = group.text.length;
        item.pending = lines.pop();
        for (const line of lines) {
          renderLine(item.tail, line);
          item.tail = el("div", "deepsearch-line");
          item.body.append(item.tail);
        }
        renderLine(item.tail, item.pending);
        if (atBottom) item.body.scrollTop = item.body.scrollHeight;
      }
    }
    this.empty.hidden = store.groups.length > 0 || !!store.dropped;
    for (; this.sourceCount < store.sources.length; this.sourceCount++) {
      const [index, title, url] = store.sources[this.sourceCount];
      const li = el("li", "deepsearch-panel-source");
      li.value = index;
      const href = safeHref(url);
      if (href) {
        const a = el("a", "deepsearch-panel-source-title", title || url);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(a);
      } else {
        li.append(el("span", "deepsearch-panel-source-title", title || url));
      }
      if (url && url !== title) li.append(el("span", "deepsearch-panel-source-url", url));
      this.sourcesList.append(li);
    }
    this.sourcesBox.hidden = store.sources.length === 0;
    this.sourcesTitle.textContent = `Sources found (${store.sources.length})`;
    const p = store.progress;
    this.stage.textContent = p.stage || "";
    this.detail.textContent = [p.section, p.sources, p.note].filter(Boolean).join(" \u00b7 ");
    this.tick();
  }

  addGroup(group) {
    const details = el("details", "deepsearch-group");
    const summary = el("summary", "deepsearch-group-title", group.title);
    const body = el("div", "deepsearch-group-body");
    const tail = el("div", "deepsearch-line");
    body.append(tail);
    details.append(summary, body);
    summary.addEventListener("click", () => {
      details.dataset.user = "1";
    });
    // Keep the newest group open and fold the older ones the reader has not opened by hand.
    for (const older of this.rendered) {
      if (!older.details.dataset.user) older.details.open = false;
    }
    details.open = true;
    this.log.append(details);
    const item = { id: group.id, details, body, tail, pending: "", len: 0 };
    this.rendered.push(item);
    return item;
  }

  tick() {
    const store = this.store;
    const extra = store.live && store.at ? (Date.now() - store.at) / 1000 : 0;
    this.clock.textContent = fmtElapsed(store.elapsed + extra);
  }

  dispose() {
    clearInterval(this.timer);
    clearTimeout(this.finder);
    this.store.views.delete(this);
  }
}

function initialize({ model }) {
  const store = storeFor(model);
  const handler = (msg) => onMessage(store, model, msg);
  model.on("msg:custom", handler);
  // Nothing heard shortly after loading: the stream may have started (or paused) before this model.
  const hello = setTimeout(() => {
    if (store.n < 0 && !store.gap) model.send({ event: "hello", n: store.n });
  }, 500);
  return () => {
    clearTimeout(hello);
    model.off("msg:custom", handler);
    stores.delete(model.get("uid"));
  };
}

function render({ model, el: root }) {
  const store = storeFor(model);
  const view = new View(store, root, model);
  store.views.add(view);
  model.send({ event: "view" });
  return () => view.dispose();
}

export default { initialize, render };
