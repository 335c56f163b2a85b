/**
 * The parts of a report view around its body: header, error line, sources, human-in-the-loop
 * exchanges, run details, and the message shown in place of a report that cannot be read.
 */

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { h, part } from './dom';
import type { IHitlExchange, IOutline, IReport, ISource, ReadResult } from './report';
import { sourceEntry } from './sourceView';

const STATUS_TONES: Record<string, string> = {
  COMPLETED: 'success',
  FAILED: 'error',
  CANCELLED: 'warn',
  RUNNING: 'info',
  WAITING_USER_INPUT: 'info'
};

/** The heading a report is shown under: its title, else its question. */
export function headerTitle(report: IReport): string {
  return report.title.trim() || report.question.trim() || 'Research report';
}

/** The title (or the question when there is none) and the status badge. */
export function header(report: IReport): HTMLElement {
  const title = headerTitle(report);
  const tone = STATUS_TONES[report.status] ?? 'neutral';
  return h(
    'header',
    { className: 'deepsearch-header' },
    h('h2', { className: 'deepsearch-title' }, title),
    h('span', { className: `deepsearch-status deepsearch-status-${tone}` }, report.status),
    citationSummary(report),
    report.title.trim() && report.question.trim() && !restates(report.title, report.question)
      ? h(
          'p',
          { className: 'deepsearch-question' },
          h('span', { className: 'deepsearch-label' }, 'Question: '),
          report.question
        )
      : null
  );
}

/** The citation check's header line ("24 citations: 23 verified, 1 weak, 0 missing source"), if any. */
function citationSummary(report: IReport): HTMLElement | null {
  const check = report.citation_check;
  const summary = check && typeof check['summary'] === 'string' ? check['summary'].trim() : '';
  if (!summary) {
    return null;
  }
  const counts = check && typeof check['counts'] === 'object' && check['counts'] ? check['counts'] : {};
  const failing = ['weak', 'missing_source'].some(k => Number((counts as Record<string, unknown>)[k]) > 0);
  return h(
    'p',
    {
      className: `deepsearch-citation-summary${failing ? ' deepsearch-citation-summary-warn' : ''}`,
      attrs: {
        title: 'Hover or focus a citation to see its passage. Weak citations are marked ?, failing sources !.'
      }
    },
    summary
  );
}

/** Whether a title only repeats the question (same words, or the question's words cut short). */
export function restates(title: string, question: string): boolean {
  const words = (text: string): string => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
  const t = words(title);
  const q = words(question);
  return t === q || (t.length > 0 && q.startsWith(t));
}

const STATUS_NOTES: Record<string, string> = {
  RUNNING: 'The run is still going; this report is updated as it arrives.',
  WAITING_USER_INPUT: 'The run is waiting for your answer; the report below is not finished.',
  CANCELLED: 'The run was cancelled; the report below is partial.',
  FAILED: 'The run failed; the report below may be partial.'
};

/** The error line, and a note when the report is not final; null when there is nothing to say. */
export function notices(report: IReport): HTMLElement | null {
  const note = STATUS_NOTES[report.status];
  if (!report.error && !(note && report.report_markdown.trim())) {
    return null;
  }
  return h(
    'div',
    { className: 'deepsearch-notices' },
    report.error ? errorLine(report.status, report.error) : null,
    // A cancelled run's error line already says the report is partial: say it once.
    note && report.report_markdown.trim() && !(report.error && report.status === 'CANCELLED')
      ? h('p', { className: 'deepsearch-note' }, note)
      : null
  );
}

/** The error line; a cancelled run is labelled as such (the user's own choice is not an alert). */
function errorLine(status: string, error: string): HTMLElement {
  return status === 'CANCELLED'
    ? h('p', { className: 'deepsearch-error deepsearch-error-cancelled' }, h('strong', {}, 'Cancelled: '), error)
    : h('p', { className: 'deepsearch-error', attrs: { role: 'alert' } }, h('strong', {}, 'Error: '), error);
}

/** Where sources can be opened: JupyterLab's resolver and link handler (files under the server's root). */
export interface ILinkContext {
  resolver: IRenderMime.IResolver | null;
  linkHandler: IRenderMime.ILinkHandler | null;
}

/** The sources list; each entry gets the element id citations link to (`ids` maps index to id), and
 * opens in place to its quoted passages and its text (see `sourceView`). */
export function sourcesPart(sources: ISource[], ids: ReadonlyMap<number, string>, links: ILinkContext): HTMLElement {
  const items = sources.map(source => sourceEntry(source, ids.get(source.index), links));
  const body = items.length
    ? h('ol', { className: 'deepsearch-sources' }, ...items)
    : h('p', { className: 'deepsearch-empty' }, 'No sources were collected.');
  return part('sources', `Sources (${sources.length})`, true, body);
}

const STAGE_LABELS: Record<string, string> = {
  clarification: 'Clarification',
  outline_review: 'Outline review',
  report_feedback: 'Report feedback',
  step: 'Step'
};

const FEEDBACK_LABELS: Record<string, string> = {
  '': 'No answer',
  accepted: 'Accepted',
  revise_comment: 'Asked for a revision',
  revise_outline: 'Replaced the outline',
  cancel: 'Cancelled the run'
};

/** The human-in-the-loop exchanges, in order; null when the run had none. */
export function hitlPart(exchanges: IHitlExchange[]): HTMLElement | null {
  if (!exchanges.length) {
    return null;
  }
  const items = exchanges.map((exchange, i) =>
    h(
      'li',
      { className: 'deepsearch-hitl-exchange' },
      h('div', { className: 'deepsearch-hitl-stage' }, `${i + 1}. ${STAGE_LABELS[exchange.stage] ?? exchange.stage}`),
      exchange.prompt.trim() ? labelled('Prompt', exchange.prompt) : null,
      exchange.questions.trim() ? labelled('Questions', exchange.questions) : null,
      exchange.outline ? outlineView(exchange.outline) : null,
      labelled('Answer', answerText(exchange))
    )
  );
  const noun = exchanges.length === 1 ? 'exchange' : 'exchanges';
  return part(
    'hitl',
    `Human in the loop (${exchanges.length} ${noun})`,
    false,
    h('ol', { className: 'deepsearch-hitl' }, ...items)
  );
}

function answerText(exchange: IHitlExchange): string {
  const label = FEEDBACK_LABELS[exchange.feedback] ?? exchange.feedback;
  const message = exchange.message.trim();
  return message ? `${label}: ${message}` : label;
}

function labelled(label: string, text: string): HTMLElement {
  return h(
    'div',
    { className: 'deepsearch-hitl-field' },
    h('span', { className: 'deepsearch-label' }, `${label}: `),
    h('span', { className: 'deepsearch-text' }, text.trim())
  );
}

function outlineView(outline: IOutline): HTMLElement {
  return h(
    'div',
    { className: 'deepsearch-outline' },
    h('span', { className: 'deepsearch-label' }, 'Outline: '),
    outline.title ? h('span', { className: 'deepsearch-outline-title' }, outline.title) : null,
    h(
      'ol',
      { className: 'deepsearch-outline-sections' },
      ...outline.sections.map(section =>
        h(
          'li',
          {},
          h('span', { className: 'deepsearch-outline-section-title' }, section.title),
          section.description ? ` — ${section.description}` : null
        )
      )
    )
  );
}

/** Run details: agent, configuration (secrets were masked by the writer), timings and ids. */
export function metadataPart(report: IReport): HTMLElement {
  const { timings, agent } = report;
  const rows: [string, string][] = [
    ['Question', report.question],
    ['Agent', agent.kind],
    ['Status', report.status],
    ['Started', timings.started_at],
    ['Ended', timings.ended_at ?? '—'],
    ['Elapsed', formatSeconds(timings.elapsed_s)],
    ['Conversation id', report.conversation_id || '—'],
    ['deepsearch_nb version', report.package_version],
    ['Schema version', String(report.schema_version)],
    ...provenanceRows(report)
  ];
  const list = h('dl', { className: 'deepsearch-meta' });
  for (const [term, value] of rows) {
    list.append(h('dt', {}, term), h('dd', {}, value));
  }
  const citationCount = Object.keys(report.citations).length;
  return part(
    'meta',
    'Run details',
    false,
    list,
    h('div', { className: 'deepsearch-label' }, 'Agent configuration'),
    h('pre', { className: 'deepsearch-json' }, JSON.stringify(agent.config, null, 2)),
    citationCount
      ? part(
          'citations',
          `Citation records (${citationCount})`,
          false,
          h('pre', { className: 'deepsearch-json' }, JSON.stringify(report.citations, null, 2))
        )
      : null
  );
}

/** How the report was made, beyond the agent's kind: model, corpus fingerprint, who answered, transcript. */
export function provenanceRows(report: IReport): [string, string][] {
  const rows: [string, string][] = [];
  const prov = report.provenance;
  if (prov?.model) {
    rows.push(['Model', prov.llm_endpoint ? `${prov.model} at ${prov.llm_endpoint}` : prov.model]);
  }
  if (prov?.corpus) {
    rows.push(['Corpus', `${prov.corpus.path} (${prov.corpus.documents} documents)`]);
    rows.push(['Corpus fingerprint', prov.corpus.sha256 ? `sha256 ${prov.corpus.sha256}` : '—']);
  }
  prov?.answers.forEach((answer, i) => {
    rows.push([`Answer ${i + 1}`, `${answer.stage}: ${answer.feedback || 'no comment'} (by ${answer.by || 'person'})`]);
  });
  const transcript = report.transcript || prov?.transcript;
  if (transcript) {
    rows.push(['Transcript', transcript]);
  }
  return rows;
}

/** "0.4 s", "12.3 s", "2 min 05 s", "1 h 02 min". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  return hours > 0
    ? `${hours} h ${String(minutes).padStart(2, '0')} min`
    : `${minutes} min ${String(secs).padStart(2, '0')} s`;
}

/** The text shown instead of a report that this renderer cannot read. */
export function unreadableMessage(result: Exclude<ReadResult, { kind: 'report' }>): HTMLElement {
  let text: string;
  if (result.kind === 'newer') {
    const writer = result.packageVersion ? ` (${result.packageVersion})` : '';
    text =
      `This report was written by a newer deepsearch_nb${writer} with schema version ${result.version}; ` +
      'update deepsearch_nb to view it.';
  } else {
    text = `This output is not a deepsearch_nb report this version can show: ${result.problem}.`;
  }
  return h('p', { className: 'deepsearch-message', attrs: { role: 'note' } }, text);
}
