/**
 * The output widget: reads the MIME data, builds the report view, and keeps in-output links
 * (citations, the report's own table of contents) scrolling inside this output.
 */

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { actionsBar, fileStem } from './actions';
import { CitationEvidence } from './evidence';
import { standaloneHtml } from './exportHtml';
import { h } from './dom';
import {
  dropRepeatedTitle,
  foldReferences,
  linkCitations,
  mayHoldMath,
  nestHeadings,
  renderReportMarkdown,
  type ICitationTarget
} from './markdown';
import { header, headerTitle, hitlPart, metadataPart, notices, sourcesPart, unreadableMessage } from './parts';
import { readReport, type IReport } from './report';
import { measureSections, scrollIntoViewSettled, sectionize } from './sections';
import { toggleSource } from './sourceView';

/** The MIME type of a deepsearch_nb report. */
export const MIME_TYPE = 'application/vnd.deepsearch.report+json';

/** The class of every report output's root element. */
export const ROOT_CLASS = 'deepsearch-report';

let outputCount = 0;

/** A prefix for element ids that no other output on the page shares. */
function newIdPrefix(): string {
  outputCount += 1;
  return `deepsearch-${outputCount}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Renders one report; a later model (an updated display) re-renders it in place. */
export class ReportWidget extends Widget implements IRenderMime.IRenderer {
  /** Create a renderer with the options JupyterLab passes to MIME renderers. */
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._options = options;
    this._idPrefix = newIdPrefix();
    this.addClass(ROOT_CLASS);
    this.node.addEventListener('click', this._onClick);
  }

  /** Render the report held by `model` (replacing what was shown before). */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const ticket = ++this._renders;
    const result = readReport(model.data[this._options.mimeType]);
    if (result.kind !== 'report') {
      this._pendingTypeset = null;
      this.node.replaceChildren(unreadableMessage(result));
      return;
    }
    const { view, body } = await this._build(result.report);
    if (ticket !== this._renders) {
      return; // a newer update of this display arrived while this one was rendering: it wins
    }
    const openParts = this._openParts();
    for (const details of view.querySelectorAll<HTMLDetailsElement>('details[data-part]')) {
      const open = openParts.get(details.dataset.part ?? '');
      if (open !== undefined) {
        details.open = open;
      }
    }
    this.node.replaceChildren(...Array.from(view.childNodes));
    // MathJax measures the page, so math is typeset once the body is in the document: now if
    // this output is attached, else when it is (as JupyterLab's own Markdown renderer does); a
    // body without any math delimiter is not handed to the typesetter at all.
    this._pendingTypeset = body;
    this._pendingMeasure = true;
    if (this.isAttached) {
      this._typeset();
      this._measure();
    }
  }

  /** Typeset math rendered while the output was not on the page, and measure its sections. */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._typeset();
    this._measure();
  }

  /** Lay the body's sections out in idle time, so each keeps its own height off screen (./sections). */
  private _measure(): void {
    const body = this.node.querySelector<HTMLElement>(':scope > .deepsearch-body');
    if (this._pendingMeasure && body) {
      this._pendingMeasure = false;
      this._sections = measureSections(body);
    }
  }

  private _typeset(): void {
    const body = this._pendingTypeset;
    this._pendingTypeset = null;
    if (body && this._options.latexTypesetter) {
      void this._options.latexTypesetter.typeset(body);
    }
  }

  private async _build(report: IReport): Promise<{ view: HTMLElement; body: HTMLElement | null }> {
    const view = h('div');
    const ids = new Map<number, string>();
    const targets = new Map<number, ICitationTarget>();
    for (const source of report.sources) {
      if (!ids.has(source.index)) {
        ids.set(source.index, `${this._idPrefix}-source-${source.index}`);
        targets.set(source.index, { id: ids.get(source.index) ?? '', label: source.title || source.url });
      }
    }
    const body = h('div', { className: 'deepsearch-body jp-RenderedHTMLCommon' });
    const markdown = foldReferences(report.report_markdown, new Set(ids.keys()));
    const hasText = markdown.trim() !== '';
    if (hasText) {
      await renderReportMarkdown(body, markdown, this._options);
      dropRepeatedTitle(body, headerTitle(report));
      nestHeadings(body);
      linkCitations(body, targets, new CitationEvidence(report.evidence, report.citation_check));
      sectionize(body); // off-screen sections are not laid out (see ./sections)
    } else {
      const live = report.status === 'RUNNING' || report.status === 'WAITING_USER_INPUT';
      body.appendChild(
        h('p', { className: 'deepsearch-empty' }, live ? 'No report text yet.' : 'The run produced no report text.')
      );
    }
    const links = { resolver: this._options.resolver ?? null, linkHandler: this._options.linkHandler ?? null };
    view.append(
      header(report),
      ...[notices(report)].filter(isElement),
      ...(report.report_markdown.trim()
        ? [
            actionsBar(report.report_markdown, fileStem(report.title || report.question), () =>
              standaloneHtml(this.node, headerTitle(report))
            )
          ]
        : []),
      body,
      sourcesPart(report.sources, ids, links),
      ...[hitlPart(report.hitl)].filter(isElement),
      metadataPart(report)
    );
    return { view, body: hasText && mayHoldMath(markdown) ? body : null };
  }

  /** Which parts the reader opened or closed, so an updated display keeps them as they were. */
  private _openParts(): Map<string, boolean> {
    const open = new Map<string, boolean>();
    for (const details of this.node.querySelectorAll<HTMLDetailsElement>('details[data-part]')) {
      open.set(details.dataset.part ?? '', details.open);
    }
    return open;
  }

  /**
   * Follow `#fragment` links inside this output: two reports in one notebook may use the same
   * fragment (or JupyterLab may look it up page-wide), so look only here, open any closed part
   * around the target, and move focus there.
   */
  private _onClick = (event: MouseEvent): void => {
    const link = (event.target as Element | null)?.closest?.('a');
    const href = link?.getAttribute('href') ?? '';
    if (!link || !href.startsWith('#') || !this.node.contains(link)) {
      return;
    }
    const target = this._findFragment(decodeFragment(href.slice(1)));
    if (!target) {
      return;
    }
    event.preventDefault();
    if (target.classList.contains('deepsearch-source')) {
      toggleSource(target, true); // a citation opens its source in place
    }
    for (let el = target.parentElement; el && el !== this.node; el = el.parentElement) {
      if (el instanceof HTMLDetailsElement) {
        el.open = true;
      }
    }
    this._sections?.flush(); // every section at its own height before the jump
    scrollIntoViewSettled(target, { block: 'center' });
    if (target.tabIndex >= 0 || target.hasAttribute('tabindex')) {
      target.focus({ preventScroll: true });
    }
    target.classList.remove('deepsearch-target');
    void target.offsetWidth; // restart the highlight animation on a repeated click
    target.classList.add('deepsearch-target');
  };

  private _findFragment(fragment: string): HTMLElement | null {
    for (const el of this.node.querySelectorAll<HTMLElement>('[id], [data-jupyter-id], a[name]')) {
      if (el.id === fragment || el.dataset.jupyterId === fragment || el.getAttribute('name') === fragment) {
        return el;
      }
    }
    return null;
  }

  private _options: IRenderMime.IRendererOptions;
  private _idPrefix: string;
  private _pendingTypeset: HTMLElement | null = null;
  private _pendingMeasure = false;
  private _sections: { flush(): void } | null = null;
  private _renders = 0;
}

function isElement(value: HTMLElement | null): value is HTMLElement {
  return value !== null;
}

function decodeFragment(fragment: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}
