/**
 * The runs plugin: a sidebar listing every research run (live ones from each notebook's kernel, saved
 * ones from the server extension), and a status-bar item "2 running · 1 waiting for you" that opens it.
 *
 * Live runs come on the `deepsearch_nb.runs` comm each kernel opens when its first run starts. The target
 * is registered on the kernel connection of every notebook shown (the connection that handles comms; a
 * second connection would close the kernel's widget comms, jupyter_client#263), and a comm the kernel
 * opened before the page loaded is found with a comm_info request. Notebooks are found by their
 * `sessionContext` among the main area's widgets, so the plugin needs only the application (JupyterLab
 * or Notebook 7); the status bar is optional (Notebook 7 has none).
 */

import { URLExt } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Panel, Widget } from '@lumino/widgets';

import { resumeNotebook, RunsModel, type ILiveRun, type ISavedRun, type RunRow } from './runsModel';
import { resumeInNotebook } from './runsResume';
import { RunsSidebar, SIDEBAR_ID } from './runsSidebar';
import { MIME_TYPE } from './widget';

export const COMM_TARGET = 'deepsearch_nb.runs';
const SCAN_MS = 1000;

/** The little of a session context the plugin reads (JupyterLab's ISessionContext). */
interface ISessionContextLike {
  path: string;
  session: { kernel: Kernel.IKernelConnection | null } | null;
  kernelChanged: { connect(fn: () => void): void };
}

/** A main-area widget that may be a notebook panel. */
interface IMainWidgetLike {
  id: string;
  isDisposed: boolean;
  sessionContext?: ISessionContextLike;
  content?: {
    widgets?: ReadonlyArray<{ model: { id: string }; node: HTMLElement }>;
    activeCellIndex?: number;
  };
}

/** The little of the application the plugin uses (JupyterFrontEnd, in JupyterLab and Notebook 7). */
interface IAppLike {
  shell: {
    add(widget: Widget, area: string, options?: { rank?: number }): void;
    activateById(id: string): void;
    widgets(area: string): IterableIterator<Widget>;
    currentWidget?: Widget | null;
  };
  commands: { execute(id: string, args?: Record<string, unknown>): Promise<unknown> };
}

/** One kernel connection the plugin listens to. */
interface IWatched {
  kernel: Kernel.IKernelConnection;
  path: string;
  comms: Map<string, Kernel.IComm>;
}

/** The plugin's state: the model, the kernels it listens to, the saved-runs fetcher. */
export class RunsController {
  constructor(app: IAppLike) {
    this.app = app;
  }

  /** Find notebooks (and their kernels) among the main area's widgets; follow closed ones. */
  scan(): void {
    const current = this.app.shell.currentWidget as IMainWidgetLike | null | undefined;
    if (current?.sessionContext?.path) {
      this.activeNotebook = current.sessionContext.path;
    }
    const seen = new Set<string>();
    for (const widget of this.app.shell.widgets('main') as IterableIterator<Widget & IMainWidgetLike>) {
      const context = widget.sessionContext;
      const kernel = context?.session?.kernel ?? null;
      if (!context || !kernel || widget.isDisposed) {
        continue;
      }
      seen.add(kernel.id);
      const watched = this.kernels.get(kernel.id);
      if (watched) {
        watched.path = context.path;
        continue;
      }
      this.watch(kernel, context.path);
    }
    for (const [id, watched] of this.kernels) {
      if (!seen.has(id) || watched.kernel.isDisposed) {
        this.kernels.delete(id);
        this.model.dropKernel(id); // the notebook closed, or its kernel changed
      }
    }
  }

  /** Listen to one kernel: the comm target, a comm it opened before, restarts. */
  watch(kernel: Kernel.IKernelConnection, path: string): void {
    const watched: IWatched = { kernel, path, comms: new Map() };
    this.kernels.set(kernel.id, watched);
    kernel.registerCommTarget(COMM_TARGET, (comm, msg) => {
      this.attach(watched, comm);
      comm.send({ action: 'hello' }); // the kernel learns a front end lists its runs, and keeps the comm
      this.receive(watched, msg.content.data);
    });
    kernel.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        watched.comms.clear();
        this.model.dropKernel(kernel.id);
        void this.refreshSaved();
      }
    });
    void this.discover(watched);
  }

  /** A comm the kernel opened before this page connected (a reload): attach to it and ask for the list. */
  async discover(watched: IWatched): Promise<void> {
    try {
      const reply = await watched.kernel.requestCommInfo({ target_name: COMM_TARGET });
      const content = reply.content;
      if (content.status !== 'ok') {
        return;
      }
      for (const id of Object.keys(content.comms)) {
        if (!watched.kernel.hasComm(id)) {
          const comm = watched.kernel.createComm(COMM_TARGET, id);
          this.attach(watched, comm);
          comm.send({ action: 'refresh' });
        }
      }
    } catch {
      // a kernel without comm_info (or one restarting): it announces itself on its next run
    }
  }

  attach(watched: IWatched, comm: Kernel.IComm): void {
    watched.comms.set(comm.commId, comm);
    comm.onMsg = (msg: KernelMessage.ICommMsgMsg) => this.receive(watched, msg.content.data);
    comm.onClose = () => {
      watched.comms.delete(comm.commId);
    };
  }

  receive(watched: IWatched, data: unknown): void {
    if (!data || typeof data !== 'object') {
      return;
    }
    const message = data as { runs?: ILiveRun[]; error?: string };
    if (Array.isArray(message.runs)) {
      const before = this.terminalKeys(watched.kernel.id);
      this.model.setLive(watched.kernel.id, watched.path, message.runs);
      const after = this.terminalKeys(watched.kernel.id);
      if ([...after].some(key => !before.has(key))) {
        void this.refreshSaved(); // a run ended: its transcript is complete on disk now
      }
    }
    if (typeof message.error === 'string') {
      this.lastError = message.error;
      this.onError(message.error);
    }
  }

  private terminalKeys(kernelId: string): Set<string> {
    const keys = new Set<string>();
    for (const row of this.model.rows()) {
      if (
        row.source === 'live' &&
        row.kernelId === kernelId &&
        !['RUNNING', 'WAITING_USER_INPUT'].includes(row.run.state)
      ) {
        keys.add(row.run.key);
      }
    }
    return keys;
  }

  /** Send an action to the kernel that owns a live run. */
  send(row: RunRow, data: { action: string; answer?: string }): void {
    if (row.source !== 'live') {
      return;
    }
    const comm = [...(this.kernels.get(row.kernelId)?.comms.values() ?? [])][0];
    comm?.send({ ...data, key: row.run.key });
  }

  /** The saved runs under the server's root (the server extension). */
  async refreshSaved(): Promise<void> {
    const settings = ServerConnection.makeSettings();
    try {
      const response = await ServerConnection.makeRequest(
        URLExt.join(settings.baseUrl, 'deepsearch-nb', 'runs'),
        {},
        settings
      );
      if (response.ok) {
        const body = (await response.json()) as { runs: ISavedRun[] };
        this.model.setSaved(body.runs);
      }
    } catch {
      // the server extension is not enabled: only live runs are listed
    }
  }

  /** Open a saved report in the main area, rendered by this extension. */
  async openSaved(row: RunRow): Promise<void> {
    if (row.source !== 'saved') {
      return;
    }
    const settings = ServerConnection.makeSettings();
    const query = URLExt.objectToQueryString({
      path: row.run.path,
      cell: row.run.cell === null ? '' : String(row.run.cell)
    });
    const response = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, 'deepsearch-nb', 'report') + query,
      {},
      settings
    );
    if (!response.ok) {
      this.onError(`The report at ${row.run.path} could not be opened (${response.status}).`);
      return;
    }
    const doc = (await response.json()) as Record<string, unknown>;
    if (!this.rendermime) {
      this.onError('No renderer registry to show the report with.');
      return;
    }
    // The application's registry gives this extension's renderer with JupyterLab's sanitizer, Markdown
    // parser and link handling, as in a notebook output.
    const renderer = this.rendermime.createRenderer(MIME_TYPE);
    const panel = new Panel();
    panel.id = `deepsearch-saved-${Math.random().toString(36).slice(2, 10)}`;
    panel.addClass('deepsearch-saved-report');
    panel.title.label = row.run.question.length > 40 ? `${row.run.question.slice(0, 37)}...` : row.run.question;
    panel.title.caption = `${row.run.path}: ${row.run.question}`;
    panel.title.closable = true;
    panel.addWidget(renderer);
    this.app.shell.add(panel, 'main');
    this.app.shell.activateById(panel.id);
    await renderer.renderModel(this.rendermime.createModel({ data: { [MIME_TYPE]: doc as never }, trusted: false }));
  }

  /** Show the notebook that owns a live run and scroll to the cell that started it. */
  async goToCell(row: RunRow): Promise<void> {
    if (row.source !== 'live' || !row.run.cell_id) {
      return;
    }
    await this.app.commands.execute('docmanager:open', { path: row.notebook });
    for (const widget of this.app.shell.widgets('main') as IterableIterator<Widget & IMainWidgetLike>) {
      if (widget.sessionContext?.path !== row.notebook || !widget.content?.widgets) {
        continue;
      }
      this.app.shell.activateById(widget.id);
      const index = widget.content.widgets.findIndex(cell => cell.model.id === row.run.cell_id);
      if (index >= 0) {
        widget.content.activeCellIndex = index;
        widget.content.widgets[index].node.scrollIntoView({ block: 'center' });
      }
      return;
    }
  }

  /** Resume a paused saved run: a new cell below the active one of its notebook runs `deepsearch_nb.resume`. */
  async resume(row: RunRow): Promise<void> {
    if (row.source !== 'saved') {
      return;
    }
    const notebooks: string[] = [];
    for (const widget of this.app.shell.widgets('main') as IterableIterator<Widget & IMainWidgetLike>) {
      const path = widget.sessionContext?.path;
      if (path && !widget.isDisposed) {
        notebooks.push(path);
      }
    }
    const active = this.activeNotebook && notebooks.includes(this.activeNotebook) ? this.activeNotebook : null;
    const saved = this.model.rows().flatMap(r => (r.source === 'saved' ? [r.run] : []));
    const notebook = resumeNotebook(row.run, active ?? notebooks[0] ?? null, notebooks, saved);
    this.onNotice(await resumeInNotebook(this.app, row.run, notebook));
  }

  rendermime: IRenderMimeRegistry | null = null;
  /** The notebook last shown in the main area (the one a new cell goes to). */
  activeNotebook: string | null = null;
  onNotice: (message: string) => void = () => undefined;
  onError: (message: string) => void = () => undefined;
  lastError = '';
  readonly model = new RunsModel();
  readonly kernels = new Map<string, IWatched>();
  readonly app: IAppLike;
}

/** The status-bar item: the live counts; a click opens the sidebar. */
class RunsStatus extends Widget {
  constructor(model: RunsModel, open: () => void) {
    super();
    this.addClass('deepsearch-runs-status-item');
    this.node.setAttribute('role', 'button');
    this.node.title = 'Show the research runs';
    this.node.addEventListener('click', open);
    const render = (): void => {
      this.node.textContent = model.statusText();
    };
    model.onChange(render);
    render();
  }
}

const plugin = {
  id: 'deepsearch-nb-labextension:runs',
  description: 'A sidebar of every research run and a status-bar item with the live ones.',
  autoStart: true,
  requires: [],
  optional: [IStatusBar, IRenderMimeRegistry],
  activate: (app: IAppLike, statusBar: IStatusBar | null, rendermime: IRenderMimeRegistry | null): void => {
    const controller = new RunsController(app);
    controller.rendermime = rendermime;
    const open = (): void => {
      app.shell.activateById(SIDEBAR_ID);
      void controller.refreshSaved();
    };
    const sidebar = new RunsSidebar(controller.model, {
      goToCell: row => void controller.goToCell(row),
      cancel: row => controller.send(row, { action: 'cancel' }),
      answer: (row, text) => controller.send(row, { action: 'answer', answer: text }),
      openSaved: row => void controller.openSaved(row),
      resume: row => void controller.resume(row),
      refresh: () => void controller.refreshSaved()
    });
    controller.onError = message => {
      sidebar.node.dataset.error = message;
      sidebar.notice(message);
    };
    controller.onNotice = message => sidebar.notice(message);
    app.shell.add(sidebar, 'left', { rank: 700 });
    if (statusBar) {
      statusBar.registerStatusItem('deepsearch-nb-labextension:runs-status', {
        item: new RunsStatus(controller.model, open),
        align: 'left',
        rank: 50
      });
    }
    window.setInterval(() => controller.scan(), SCAN_MS);
    controller.scan();
    void controller.refreshSaved();
  }
};

export default plugin;
