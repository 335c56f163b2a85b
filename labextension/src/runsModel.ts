/**
 * What the runs sidebar and the status-bar item show: the live runs each kernel announces on its
 * `deepsearch_nb.runs` comm, and the saved runs the server extension finds under the server's root.
 * Pure data and grouping, no DOM and no Jupyter services, so it is tested on its own.
 */

/** One run as a kernel describes it (deepsearch_nb/_ui/_runs_channel.py `_describe`). */
export interface ILiveRun {
  key: string;
  conversation_id: string;
  question: string;
  state: string;
  stage: string;
  elapsed_s: number;
  started_at: string;
  chunks: number;
  tokens: number | null;
  cell_id: string | null;
  pending: { stage: string; prompt: string; questions: string } | null;
  error: string | null;
}

/** One run found on disk (deepsearch_nb/_jupyter/_saved.py `SavedRun`). */
export interface ISavedRun {
  path: string;
  kind: 'notebook' | 'report' | 'transcript';
  notebook: string;
  question: string;
  status: string;
  conversation_id: string;
  started_at: string;
  elapsed_s: number | null;
  cell: number | null;
  /** `deepsearch_nb.resume(path)` can pick it up (a paused or interrupted transcript, a waiting report). */
  resumable?: boolean;
  /** The unanswered question it stopped at. */
  pending?: { stage: string; prompt: string } | null;
}

/** A row of the sidebar: a live run of an open kernel, or a saved one. */
export type RunRow =
  | { source: 'live'; notebook: string; kernelId: string; run: ILiveRun; receivedAt: number }
  | { source: 'saved'; notebook: string; run: ISavedRun };

/** The statuses the filter offers (a saved transcript without an end line is UNFINISHED). */
export const STATUSES = ['RUNNING', 'WAITING_USER_INPUT', 'COMPLETED', 'CANCELLED', 'FAILED', 'UNFINISHED'] as const;

/** The status a row shows. */
export function rowStatus(row: RunRow): string {
  return row.source === 'live' ? row.run.state : row.run.status;
}

/** The notebook a saved run belongs to: its notebook, else the folder a transcript sits in, else "Saved reports". */
function savedGroup(run: ISavedRun): string {
  if (run.notebook) {
    return run.notebook;
  }
  return run.kind === 'report' ? 'Saved reports' : '(server root)';
}

/** Live runs and saved ones, kept up to date by the plugin; listeners hear every change. */
export class RunsModel {
  /** Live runs of one kernel replace the previous snapshot of that kernel. */
  setLive(kernelId: string, notebook: string, runs: ILiveRun[]): void {
    this._live.set(kernelId, { notebook, runs, receivedAt: Date.now() });
    this._changed();
  }

  /** A kernel restarted, died or its notebook closed: its live runs are gone (saved ones stay). */
  dropKernel(kernelId: string): void {
    if (this._live.delete(kernelId)) {
      this._changed();
    }
  }

  /** The saved runs, as the server extension listed them. */
  setSaved(runs: ISavedRun[]): void {
    this._saved = runs;
    this._changed();
  }

  /** Every row, live ones first; a saved run that is also live (same conversation) is shown once, live. */
  rows(filter: string = ''): RunRow[] {
    const rows: RunRow[] = [];
    const liveIds = new Set<string>();
    for (const [kernelId, entry] of this._live) {
      for (const run of entry.runs) {
        liveIds.add(run.conversation_id);
        rows.push({ source: 'live', notebook: entry.notebook, kernelId, run, receivedAt: entry.receivedAt });
      }
    }
    for (const run of this._saved) {
      if (!liveIds.has(run.conversation_id) || run.kind === 'report') {
        rows.push({ source: 'saved', notebook: savedGroup(run), run });
      }
    }
    return filter ? rows.filter(row => rowStatus(row) === filter) : rows;
  }

  /** Rows grouped by notebook, in first-seen order. */
  groups(filter: string = ''): Map<string, RunRow[]> {
    const groups = new Map<string, RunRow[]>();
    for (const row of this.rows(filter)) {
      const list = groups.get(row.notebook) ?? [];
      list.push(row);
      groups.set(row.notebook, list);
    }
    return groups;
  }

  /** The status-bar text: "2 running · 1 waiting for you" (live runs of open kernels only). */
  statusText(): string {
    let running = 0;
    let waiting = 0;
    for (const entry of this._live.values()) {
      for (const run of entry.runs) {
        running += run.state === 'RUNNING' ? 1 : 0;
        waiting += run.state === 'WAITING_USER_INPUT' ? 1 : 0;
      }
    }
    if (!running && !waiting) {
      return 'DeepSearch: no live runs';
    }
    const parts = [];
    if (running) {
      parts.push(`${running} running`);
    }
    if (waiting) {
      parts.push(`${waiting} waiting for you`);
    }
    return parts.join(' · ');
  }

  /** Call `listener` after every change; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  private _changed(): void {
    for (const listener of [...this._listeners]) {
      listener();
    }
  }

  private _live = new Map<string, { notebook: string; runs: ILiveRun[]; receivedAt: number }>();
  private _saved: ISavedRun[] = [];
  private _listeners = new Set<() => void>();
}

/** "12 s", "3 min 5 s", "1 h 2 min": elapsed time as the sidebar shows it. */
export function formatElapsed(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '';
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The folder of a root-relative path ("" for the root). */
export function folderOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '' : path.slice(0, cut);
}

/** The folder a saved run's kernel ran in: a transcript's notebook folder, a report file's own folder. */
export function runFolder(run: ISavedRun): string {
  return run.kind === 'transcript' ? run.notebook : folderOf(run.path);
}

/** `target` relative to `folder` (both relative to the server root), as a kernel started in `folder` opens it. */
export function relativePath(folder: string, target: string): string {
  const from = folder ? folder.split('/') : [];
  const to = target.split('/');
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) {
    common++;
  }
  return [...from.slice(common).map(() => '..'), ...to.slice(common)].join('/');
}

/** The cell that resumes a saved run from a notebook at `notebookPath` (its kernel runs in its folder). */
export function resumeCode(run: ISavedRun, notebookPath: string): string {
  // JSON's string escapes are valid in a Python string literal.
  const path = JSON.stringify(relativePath(folderOf(notebookPath), run.path));
  return `import deepsearch_nb\ndeepsearch_nb.resume(${path})`;
}

/**
 * The notebook to resume a saved run in: the active notebook when it sits in the run's folder, else an open
 * one there, else a notebook there that holds saved runs, else the active notebook; null when none is known.
 */
export function resumeNotebook(
  run: ISavedRun,
  active: string | null,
  open: readonly string[],
  saved: readonly ISavedRun[]
): string | null {
  const folder = runFolder(run);
  const inFolder = (path: string): boolean => path.endsWith('.ipynb') && folderOf(path) === folder;
  if (active && inFolder(active)) {
    return active;
  }
  const candidate =
    open.find(inFolder) ?? saved.find(r => r.kind === 'notebook' && inFolder(r.notebook))?.notebook ?? null;
  return candidate ?? active;
}
