// deepsearch_nb stream view (anywidget ESM, no build step).
//
// The kernel never resends text: each custom message carries only what is new since the previous one
// ({n, g: new groups, a: appends, s: new sources, p: progress, el: elapsed seconds, live}), numbered by
// a serial n. The text is kept once per MODEL (initialize), so every view of it - and a view created
// later - shows all of it. A model that missed messages (created by a page reload while the kernel runs,
// or messages that arrived before this module loaded) sees a gap in n, or nothing at all, and asks the
// kernel once for a snapshot; messages already contained in the snapshot are dropped.

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

class View {
  constructor(store, root) {
    this.store = store;
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
    this.sync();
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
        item.text.appendData(group.text.slice(item.len));
        item.len = group.text.length;
        if (atBottom) item.body.scrollTop = item.body.scrollHeight;
      }
    }
    this.empty.hidden = store.groups.length > 0;
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
    const text = document.createTextNode("");
    body.append(text);
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
    const item = { id: group.id, details, body, text, len: 0 };
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
  const view = new View(store, root);
  store.views.add(view);
  model.send({ event: "view" });
  return () => view.dispose();
}

export default { initialize, render };
