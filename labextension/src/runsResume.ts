/**
 * Resuming a paused saved run from the sidebar: a new code cell below the active cell of the run's
 * notebook (opened when it is not) holding `deepsearch_nb.resume("<path>")`, run at once, so the panel
 * comes back at the same pause. The path is relative to the notebook's folder, where its kernel runs.
 * The notebook is driven through the application's commands (`notebook:insert-cell-below`,
 * `notebook:run-cell`), so the plugin needs no notebook package; when there is no notebook to use, or a
 * command fails, the line is copied to the clipboard instead and the message says so.
 */

import type { Widget } from '@lumino/widgets';

import { folderOf, resumeCode, runFolder, type ISavedRun } from './runsModel';

/** The little of a notebook panel resuming uses. */
interface INotebookLike {
  id: string;
  context?: { ready: Promise<void> };
  sessionContext?: { ready: Promise<void> };
  content?: {
    widgets?: ReadonlyArray<unknown>;
    activeCell?: { model: { type?: string; sharedModel: { setSource(source: string): void } } } | null;
  };
}

/** The little of the application resuming uses. */
export interface IResumeApp {
  shell: { activateById(id: string): void };
  commands: { execute(id: string, args?: Record<string, unknown>): Promise<unknown> };
}

async function copy(code: string, why: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(code);
    return `${why} Copied to the clipboard; run it in a notebook: ${code.replace('\n', '; ')}`;
  } catch {
    return `${why} Run this in a notebook: ${code.replace('\n', '; ')}`;
  }
}

/** Resume `run` in `notebook` (a root-relative path, or null when none is known); returns what was done. */
export async function resumeInNotebook(app: IResumeApp, run: ISavedRun, notebook: string | null): Promise<string> {
  if (!notebook) {
    const folder = runFolder(run);
    const code = resumeCode(run, `${folder ? `${folder}/` : ''}_.ipynb`);
    return copy(code, `No notebook is open to resume this run in (its kernel ran in "${folder || '/'}").`);
  }
  const code = resumeCode(run, notebook);
  try {
    const panel = (await app.commands.execute('docmanager:open', { path: notebook })) as
      (Widget & INotebookLike) | undefined;
    if (!panel?.content) {
      throw new Error(`${notebook} did not open as a notebook`);
    }
    await panel.context?.ready;
    await panel.sessionContext?.ready;
    app.shell.activateById(panel.id);
    const before = panel.content.widgets?.length;
    await app.commands.execute('notebook:insert-cell-below');
    if (before !== undefined && panel.content.widgets?.length !== before + 1) {
      // the command went to another notebook: never overwrite a cell of this one
      throw new Error('no new cell was inserted in it');
    }
    const cell = panel.content.activeCell;
    if (!cell || (cell.model.type && cell.model.type !== 'code')) {
      throw new Error('the new cell is not a code cell');
    }
    cell.model.sharedModel.setSource(code);
    await app.commands.execute('notebook:run-cell');
    return `Resuming in ${notebook} (folder ${folderOf(notebook) || '/'}): a new cell runs ${code.split('\n')[1]}`;
  } catch (error) {
    return copy(code, `The run could not be resumed in ${notebook} (${String(error)}).`);
  }
}
