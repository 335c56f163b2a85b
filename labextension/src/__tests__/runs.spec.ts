import { describe, expect, it } from 'vitest';

import { RunsModel, type ILiveRun, type ISavedRun, type RunRow } from '../runsModel';
import { RunsSidebar } from '../runsSidebar';
import { sidebarActions } from './helpers';

function live(key: string, state: string, extra: Partial<ILiveRun> = {}): ILiveRun {
  return {
    key,
    conversation_id: `c-${key}`,
    question: `Question ${key}`,
    state,
    stage: 'searching',
    elapsed_s: 12,
    started_at: '2026-12-01T10:00:00Z',
    chunks: 3,
    tokens: null,
    cell_id: 'cell-1',
    pending: null,
    error: null,
    ...extra
  };
}

const saved: ISavedRun = {
  path: 'b.ipynb',
  kind: 'notebook',
  notebook: 'b.ipynb',
  question: 'Saved question',
  status: 'COMPLETED',
  conversation_id: 'c-saved',
  started_at: '2026-12-01T09:00:00Z',
  elapsed_s: 30,
  cell: 2
};

describe('the runs model', () => {
  it('groups live and saved runs by notebook and counts the live ones for the status bar', () => {
    const model = new RunsModel();
    model.setLive('k1', 'a.ipynb', [live('1', 'RUNNING'), live('2', 'RUNNING'), live('3', 'WAITING_USER_INPUT')]);
    model.setSaved([saved]);
    expect([...model.groups().keys()]).toEqual(['a.ipynb', 'b.ipynb']);
    expect(model.statusText()).toBe('2 running · 1 waiting for you');
    expect(model.rows('COMPLETED').map(r => r.run.question)).toEqual(['Saved question']);
    model.dropKernel('k1'); // a restart: the live runs go, the saved ones stay
    expect(model.statusText()).toBe('DeepSearch: no live runs');
    expect(model.rows()).toHaveLength(1);
  });
});

describe('the runs sidebar', () => {
  it('answers, cancels and opens from its rows, and keeps a draft across updates', () => {
    const model = new RunsModel();
    const act = sidebarActions();
    const sidebar = new RunsSidebar(model, act);
    document.body.appendChild(sidebar.node);
    const pending = { stage: 'clarification', prompt: 'Enter your feedback', questions: '1. Which region?' };
    model.setLive('k1', 'a.ipynb', [live('w', 'WAITING_USER_INPUT', { pending }), live('r', 'RUNNING')]);
    model.setSaved([saved]);
    const rows = sidebar.node.querySelectorAll<HTMLElement>('.deepsearch-runs-row');
    expect([...rows].map(r => r.dataset.status)).toEqual(['WAITING_USER_INPUT', 'RUNNING', 'COMPLETED']);
    const box = sidebar.node.querySelector<HTMLTextAreaElement>('.deepsearch-runs-answer')!;
    box.value = 'Europe';
    box.dispatchEvent(new Event('input'));
    model.setLive('k1', 'a.ipynb', [live('w', 'WAITING_USER_INPUT', { pending }), live('r', 'RUNNING', { chunks: 9 })]);
    expect(sidebar.node.querySelector<HTMLTextAreaElement>('.deepsearch-runs-answer')!.value).toBe('Europe');
    sidebar.node.querySelector<HTMLButtonElement>('.deepsearch-runs-send')!.click();
    expect(act.answer.mock.calls[0][1]).toBe('Europe');
    sidebar.node.querySelector<HTMLElement>('[data-status="RUNNING"] .deepsearch-runs-cancel')!.click();
    const cancelled = act.cancel.mock.calls[0][0] as RunRow;
    expect(cancelled.source === 'live' && cancelled.run.key).toBe('r');
    sidebar.node.querySelector<HTMLButtonElement>('.deepsearch-runs-open')!.click();
    expect(act.openSaved).toHaveBeenCalledOnce();
    const filter = sidebar.node.querySelector<HTMLSelectElement>('.deepsearch-runs-filter')!;
    filter.value = 'RUNNING';
    filter.dispatchEvent(new Event('change'));
    expect(sidebar.node.querySelectorAll('.deepsearch-runs-row')).toHaveLength(1);
    sidebar.dispose();
  });
});
