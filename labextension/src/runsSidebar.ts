/**
 * The runs sidebar: every research run of the open kernels and every saved run under the server's root,
 * grouped by notebook, with status, stage, elapsed time and tokens where known; a status filter; and the
 * actions a row allows (go to the cell that owns a live run, Cancel it, answer its question; open a saved
 * report). The actions are the plugin's (it talks to kernels and the server); this widget only draws.
 */

import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { h } from './dom';
import { formatElapsed, rowStatus, STATUSES, type RunRow, type RunsModel } from './runsModel';

/** What a row's buttons do (provided by the plugin). */
export interface IRunActions {
  goToCell(row: RunRow): void;
  cancel(row: RunRow): void;
  answer(row: RunRow, text: string): void;
  openSaved(row: RunRow): void;
  /** Pick a paused saved run up: a cell running `deepsearch_nb.resume(path)` in its notebook. */
  resume(row: RunRow): void;
  refresh(): void;
}

export const SIDEBAR_ID = 'deepsearch-nb-runs';

/** The sidebar's tab icon: a magnifier over lines (a research run). */
export const runsIcon = new LabIcon({
  name: 'deepsearch-nb:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 5h10v2H3zM3 10h7v2H3zM3 15h6v2H3z"/>' +
    '<path d="M16.5 9a4.5 4.5 0 0 1 3.6 7.2l2.6 2.6-1.4 1.4-2.6-2.6A4.5 4.5 0 1 1 16.5 9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z"/>' +
    '</g></svg>'
});

const STATUS_LABEL: Record<string, string> = {
  RUNNING: 'running',
  WAITING_USER_INPUT: 'waiting for you',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
  UNFINISHED: 'unfinished'
};

function button(label: string, className: string, onClick: () => void, title = ''): HTMLButtonElement {
  const el = h(
    'button',
    { className: `jp-Button deepsearch-runs-button ${className}`, attrs: { type: 'button' } },
    label
  );
  if (title) {
    el.title = title;
  }
  el.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return el;
}

/** The sidebar widget; re-draws on every model change, keeping what is typed in an answer box. */
export class RunsSidebar extends Widget {
  constructor(model: RunsModel, actions: IRunActions) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('deepsearch-runs');
    this.title.caption = 'DeepSearch research runs';
    this.title.icon = runsIcon;
    this._model = model;
    this._actions = actions;
    this._filter = h('select', { className: 'deepsearch-runs-filter', attrs: { 'aria-label': 'Filter by status' } });
    this._filter.appendChild(h('option', { attrs: { value: '' } }, 'All statuses'));
    for (const status of STATUSES) {
      this._filter.appendChild(h('option', { attrs: { value: status } }, STATUS_LABEL[status] ?? status));
    }
    this._filter.addEventListener('change', () => this.render());
    this._list = h('div', { className: 'deepsearch-runs-list' });
    const head = h(
      'div',
      { className: 'deepsearch-runs-head' },
      h('h2', { className: 'deepsearch-runs-title' }, 'Research runs'),
      this._filter,
      button('Refresh', 'deepsearch-runs-refresh', () => actions.refresh(), 'List the saved runs again')
    );
    this._notice = h('p', { className: 'deepsearch-runs-notice', attrs: { role: 'status' } });
    this.node.append(head, this._notice, this._list);
    this._unsubscribe = model.onChange(() => this.render());
    this._ticker = window.setInterval(() => this._tick(), 1000);
    this.render();
  }

  dispose(): void {
    this._unsubscribe();
    window.clearInterval(this._ticker);
    super.dispose();
  }

  /** Draw every group again (answer drafts and the focused box survive). */
  render(): void {
    const focused = document.activeElement;
    const focusedKey = focused instanceof HTMLTextAreaElement ? focused.dataset.key : undefined;
    const groups = this._model.groups(this._filter.value);
    const children: HTMLElement[] = [];
    for (const [notebook, rows] of groups) {
      const list = h('ul', { className: 'deepsearch-runs-rows' });
      for (const row of rows) {
        list.appendChild(this._row(row));
      }
      children.push(
        h(
          'section',
          { className: 'deepsearch-runs-group', attrs: { 'data-notebook': notebook } },
          h('h3', { className: 'deepsearch-runs-notebook' }, notebook || '(unknown notebook)'),
          list
        )
      );
    }
    if (!children.length) {
      children.push(h('p', { className: 'deepsearch-runs-empty' }, 'No research runs yet.'));
    }
    this._list.replaceChildren(...children);
    if (focusedKey) {
      const box = this._list.querySelector<HTMLTextAreaElement>(`textarea[data-key="${CSS.escape(focusedKey)}"]`);
      box?.focus();
    }
  }

  private _row(row: RunRow): HTMLLIElement {
    const status = rowStatus(row);
    const key = row.source === 'live' ? row.run.key : `${row.run.path}#${row.run.cell ?? ''}`;
    const facts: string[] = [];
    if (row.source === 'live') {
      facts.push(row.run.stage);
      if (row.run.tokens !== null) {
        facts.push(`${row.run.tokens} tokens`);
      }
    } else {
      facts.push(row.run.kind === 'transcript' ? 'transcript' : 'saved report');
      if (row.run.pending) {
        facts.push(`paused at: ${row.run.pending.prompt || row.run.pending.stage}`);
      }
    }
    const elapsed = h('span', { className: 'deepsearch-runs-elapsed' });
    const item = h(
      'li',
      {
        className: 'deepsearch-runs-row',
        attrs: { 'data-status': status, 'data-source': row.source, 'data-key': key }
      },
      h(
        'div',
        { className: 'deepsearch-runs-line' },
        h(
          'span',
          { className: `deepsearch-runs-status deepsearch-runs-status-${status.toLowerCase()}` },
          STATUS_LABEL[status] ?? status
        ),
        elapsed
      ),
      h('div', { className: 'deepsearch-runs-question', attrs: { title: row.run.question } }, row.run.question),
      h('div', { className: 'deepsearch-runs-facts' }, facts.filter(Boolean).join(' · '))
    );
    if (row.source === 'live') {
      elapsed.dataset.base = String(row.run.elapsed_s);
      elapsed.dataset.received = String(row.receivedAt);
      elapsed.dataset.ticking = status === 'RUNNING' || status === 'WAITING_USER_INPUT' ? '1' : '';
    }
    elapsed.textContent = formatElapsed(this._elapsed(row));
    item.appendChild(this._actionsOf(row, key));
    return item;
  }

  private _elapsed(row: RunRow): number | null {
    if (row.source === 'saved') {
      return row.run.elapsed_s;
    }
    const live = row.run.state === 'RUNNING' || row.run.state === 'WAITING_USER_INPUT';
    return row.run.elapsed_s + (live ? (Date.now() - row.receivedAt) / 1000 : 0);
  }

  private _actionsOf(row: RunRow, key: string): HTMLElement {
    const actions = h('div', { className: 'deepsearch-runs-actions' });
    if (row.source === 'saved') {
      if (row.run.kind !== 'transcript') {
        actions.appendChild(button('Open report', 'deepsearch-runs-open', () => this._actions.openSaved(row)));
      }
      if (row.run.resumable) {
        const resume = button(
          'Resume',
          'deepsearch-runs-resume',
          () => this._actions.resume(row),
          'Run deepsearch_nb.resume() on it in a new cell of its notebook, so it waits at the same pause'
        );
        resume.setAttribute('aria-label', `Resume: ${row.run.question}`);
        actions.appendChild(resume);
      }
      return actions;
    }
    if (row.run.cell_id) {
      actions.appendChild(button('Go to cell', 'deepsearch-runs-goto', () => this._actions.goToCell(row)));
    }
    const live = row.run.state === 'RUNNING' || row.run.state === 'WAITING_USER_INPUT';
    if (live) {
      actions.appendChild(button('Cancel', 'deepsearch-runs-cancel', () => this._actions.cancel(row)));
    }
    if (row.run.state === 'WAITING_USER_INPUT' && row.run.pending) {
      const pending = row.run.pending;
      const box = h('textarea', {
        className: 'deepsearch-runs-answer',
        attrs: { 'data-key': key, rows: '3', 'aria-label': 'Your answer', placeholder: 'Your answer' }
      });
      box.value = this._drafts.get(key) ?? '';
      box.addEventListener('input', () => this._drafts.set(key, box.value));
      const send = (text: string): void => {
        this._drafts.delete(key);
        this._actions.answer(row, text);
      };
      const form = h(
        'div',
        { className: 'deepsearch-runs-ask' },
        h('div', { className: 'deepsearch-runs-prompt' }, pending.questions || pending.prompt),
        box,
        button('Send answer', 'deepsearch-runs-send', () => send(box.value.trim()))
      );
      if (pending.stage === 'outline_review') {
        form.appendChild(button('Accept outline', 'deepsearch-runs-accept', () => send('accept')));
      }
      actions.appendChild(form);
    }
    return actions;
  }

  /** A line under the head (what an action did, or why it could not). */
  notice(text: string): void {
    this._notice.textContent = text;
  }

  private _tick(): void {
    for (const el of this._list.querySelectorAll<HTMLElement>('.deepsearch-runs-elapsed[data-ticking="1"]')) {
      const base = Number(el.dataset.base);
      const received = Number(el.dataset.received);
      el.textContent = formatElapsed(base + (Date.now() - received) / 1000);
    }
  }

  private _model: RunsModel;
  private _actions: IRunActions;
  private _filter: HTMLSelectElement;
  private _list: HTMLDivElement;
  private _notice: HTMLParagraphElement;
  private _drafts = new Map<string, string>();
  private _unsubscribe: () => void;
  private _ticker: number;
}
