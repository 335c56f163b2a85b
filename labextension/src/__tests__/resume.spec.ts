import { describe, expect, it, vi } from 'vitest';

import { relativePath, resumeCode, resumeNotebook, RunsModel, type ISavedRun, type RunRow } from '../runsModel';
import { resumeInNotebook } from '../runsResume';
import { RunsSidebar } from '../runsSidebar';
import { sidebarActions } from './helpers';

const paused: ISavedRun = {
  path: 'work/.deepsearch/transcripts/c-1.jsonl',
  kind: 'transcript',
  notebook: 'work',
  question: 'What does pumped hydro store?',
  status: 'UNFINISHED',
  conversation_id: 'c-1',
  started_at: '2026-12-01T10:00:00Z',
  elapsed_s: null,
  cell: null,
  resumable: true,
  pending: { stage: 'outline_review', prompt: 'Review the outline' }
};
const ended: ISavedRun = {
  ...paused,
  conversation_id: 'c-2',
  path: 'work/.deepsearch/transcripts/c-2.jsonl',
  status: 'COMPLETED',
  resumable: false,
  pending: null
};

describe('resuming a saved run', () => {
  it('writes the resume call with the path relative to the notebook folder', () => {
    expect(resumeCode(paused, 'work/storage.ipynb')).toBe(
      'import deepsearch_nb\ndeepsearch_nb.resume(".deepsearch/transcripts/c-1.jsonl")'
    );
    expect(relativePath('other/deep', 'work/x "q".json')).toBe('../../work/x "q".json');
    expect(resumeCode({ ...paused, path: 'work/x "q".json' }, 'a.ipynb')).toContain('resume("work/x \\"q\\".json")');
  });

  it('picks the notebook in the run folder, else the active one', () => {
    expect(resumeNotebook(paused, 'work/a.ipynb', ['b.ipynb', 'work/a.ipynb'], [])).toBe('work/a.ipynb');
    expect(resumeNotebook(paused, 'b.ipynb', ['b.ipynb', 'work/c.ipynb'], [])).toBe('work/c.ipynb');
    const nb: ISavedRun = { ...ended, kind: 'notebook', path: 'work/s.ipynb', notebook: 'work/s.ipynb' };
    expect(resumeNotebook(paused, 'b.ipynb', ['b.ipynb'], [nb])).toBe('work/s.ipynb');
    expect(resumeNotebook(paused, 'b.ipynb', ['b.ipynb'], [])).toBe('b.ipynb');
    expect(resumeNotebook(paused, null, [], [])).toBeNull();
  });

  it('offers a Resume button, with an accessible name, only on a resumable saved run', () => {
    const model = new RunsModel();
    const act = sidebarActions();
    const sidebar = new RunsSidebar(model, act);
    document.body.appendChild(sidebar.node);
    model.setSaved([paused, ended]);
    const buttons = sidebar.node.querySelectorAll<HTMLButtonElement>('.deepsearch-runs-resume');
    expect(buttons).toHaveLength(1);
    expect(buttons[0].getAttribute('aria-label')).toBe('Resume: What does pumped hydro store?');
    expect(buttons[0].textContent).toBe('Resume');
    expect(sidebar.node.textContent).toContain('paused at: Review the outline');
    buttons[0].click();
    const row = act.resume.mock.calls[0][0] as RunRow;
    expect(row.source === 'saved' && row.run.conversation_id).toBe('c-1');
    sidebar.dispose();
    sidebar.node.remove();
  });

  it('inserts a cell below the active one in the notebook, sets its source and runs it', async () => {
    const calls: string[] = [];
    const cell = { model: { type: 'code', sharedModel: { setSource: vi.fn() } } };
    const panel = {
      id: 'nb',
      context: { ready: Promise.resolve() },
      sessionContext: { ready: Promise.resolve() },
      content: { activeCell: null as unknown, widgets: [{}] as unknown[] }
    };
    const app = {
      shell: { activateById: vi.fn() },
      commands: {
        execute: vi.fn((id: string, args?: { path?: string }) => {
          calls.push(args?.path ? `${id} ${args.path}` : id);
          if (id === 'notebook:insert-cell-below') {
            panel.content.activeCell = cell;
            panel.content.widgets = [{}, cell];
          }
          return Promise.resolve(id === 'docmanager:open' ? panel : undefined);
        })
      }
    };
    const message = await resumeInNotebook(app, paused, 'work/storage.ipynb');
    expect(calls).toEqual(['docmanager:open work/storage.ipynb', 'notebook:insert-cell-below', 'notebook:run-cell']);
    expect(app.shell.activateById).toHaveBeenCalledWith('nb');
    expect(cell.model.sharedModel.setSource).toHaveBeenCalledWith(
      'import deepsearch_nb\ndeepsearch_nb.resume(".deepsearch/transcripts/c-1.jsonl")'
    );
    expect(message).toContain('Resuming in work/storage.ipynb');
  });

  it('never overwrites a cell when the new one went to another notebook', async () => {
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: vi.fn(() => Promise.resolve()) },
      configurable: true
    });
    const setSource = vi.fn();
    const other = { model: { type: 'code', sharedModel: { setSource } } };
    const panel = { id: 'nb', content: { activeCell: other, widgets: [other] } };
    const execute = vi.fn((id: string) => Promise.resolve(id === 'docmanager:open' ? panel : undefined));
    const message = await resumeInNotebook(
      { shell: { activateById: vi.fn() }, commands: { execute } },
      paused,
      'work/s.ipynb'
    );
    expect(setSource).not.toHaveBeenCalled();
    expect(execute).not.toHaveBeenCalledWith('notebook:run-cell');
    expect(message).toContain('could not be resumed in work/s.ipynb');
    expect(message).toContain('Copied to the clipboard');
  });

  it('copies the line and says so when there is no notebook to resume in', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const app = { shell: { activateById: vi.fn() }, commands: { execute: vi.fn() } };
    const message = await resumeInNotebook(app, paused, null);
    expect(app.commands.execute).not.toHaveBeenCalled();
    expect(writeText).toHaveBeenCalledWith(
      'import deepsearch_nb\ndeepsearch_nb.resume(".deepsearch/transcripts/c-1.jsonl")'
    );
    expect(message).toContain('Copied to the clipboard');
  });
});
