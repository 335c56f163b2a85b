/**
 * The report document (schema version 1) and a reader that checks the parts the renderer uses.
 *
 * The reader is tolerant where the schema is open (extra keys, missing optional fields) and strict
 * where a wrong type would make the view lie or break, so a damaged output shows a message instead
 * of a half-drawn report.
 *
 * The document's format is deepsearch_nb/schemas/report.v1.schema.json; `./schema` holds the types
 * generated from it, and `__tests__/schema.spec.ts` checks these view types against them.
 */

import type { ReportDocumentV1 } from './schema';

/** The schema version this renderer reads (the schema's `const`, so a new schema fails to compile here). */
export const SCHEMA_VERSION: ReportDocumentV1['schema_version'] = 1;

/** One collected document; `index` is the N of `[citation:N]`. */
export interface ISource {
  index: number;
  title: string;
  url: string;
  query?: string;
  /** The sentences the report quotes from it. */
  passages?: string[];
  /** Its text (bounded), to read it in place. */
  document?: string;
  /** The absolute path it was read from (linked only under the Jupyter server's root). */
  file?: string;
}

/** One section of an outline shown at an outline review. */
export interface IOutlineSection {
  title: string;
  description: string;
}

/** The outline of an outline review, reduced to what the view shows. */
export interface IOutline {
  title: string;
  sections: IOutlineSection[];
}

/** One human-in-the-loop exchange: what the agent asked and how it was answered. */
export interface IHitlExchange {
  stage: string;
  prompt: string;
  questions: string;
  outline: IOutline | null;
  feedback: string;
  message: string;
}

/** When the run started and ended, and how long it took. */
export interface ITimings {
  started_at: string;
  ended_at: string | null;
  elapsed_s: number;
}

/** One answer as the provenance lists it: the stage, the feedback, and who gave it. */
export interface IProvenanceAnswer {
  stage: string;
  feedback: string;
  by: string;
}

/** Who and what made the report (derived by the writer from the rest of the document). */
export interface IProvenance {
  agent: string;
  model: string | null;
  llm_endpoint: string | null;
  corpus: { path: string; sha256: string | null; documents: number } | null;
  answers: IProvenanceAnswer[];
  date: string;
  duration_s: number;
  transcript: string | null;
}

/** A schema-version-1 report, with optional fields filled in. */
export interface IReport {
  schema_version: typeof SCHEMA_VERSION;
  question: string;
  title: string;
  status: string;
  error: string | null;
  report_markdown: string;
  sources: ISource[];
  citations: Record<string, unknown>;
  /** Since 1.1: what each cited number stands for (read defensively by `./evidence`). */
  evidence: Record<string, unknown>;
  /** Since 1.1: the check of each citation; null for older reports. */
  citation_check: Record<string, unknown> | null;
  hitl: IHitlExchange[];
  timings: ITimings;
  agent: { kind: string; config: Record<string, unknown> };
  conversation_id: string;
  package_version: string;
  transcript: string;
  provenance: IProvenance | null;
}

/** The outcome of reading MIME data: a report, or why it cannot be shown. */
export type ReadResult =
  | { kind: 'report'; report: IReport }
  | { kind: 'newer'; version: number; packageVersion: string }
  | { kind: 'invalid'; problem: string };

/** Read MIME data as a version-1 report, or say in words why it cannot be shown. */
export function readReport(data: unknown): ReadResult {
  if (!isObject(data)) {
    return { kind: 'invalid', problem: 'the data is not a JSON object' };
  }
  const version = data['schema_version'];
  if (typeof version === 'number' && Number.isInteger(version) && version > SCHEMA_VERSION) {
    const packageVersion = typeof data['package_version'] === 'string' ? data['package_version'] : '';
    return { kind: 'newer', version, packageVersion };
  }
  if (version !== SCHEMA_VERSION) {
    return { kind: 'invalid', problem: `schema_version is ${describe(version)}, expected ${SCHEMA_VERSION}` };
  }
  try {
    return { kind: 'report', report: readV1(data) };
  } catch (error) {
    if (error instanceof ReportError) {
      return { kind: 'invalid', problem: error.message };
    }
    throw error;
  }
}

/** A problem found while reading; its message names the field. */
class ReportError extends Error {}

function readV1(data: Record<string, unknown>): IReport {
  const timings = object(data, 'timings');
  const agent = object(data, 'agent');
  return {
    schema_version: SCHEMA_VERSION,
    question: string(data, 'question'),
    title: optionalString(data, 'title'),
    status: string(data, 'status'),
    error: nullableString(data, 'error'),
    report_markdown: string(data, 'report_markdown'),
    sources: array(data, 'sources').map((item, i) => readSource(item, `sources[${i}]`)),
    citations: isObject(data['citations']) ? data['citations'] : {},
    evidence: isObject(data['evidence']) ? data['evidence'] : {},
    citation_check: isObject(data['citation_check']) ? data['citation_check'] : null,
    hitl: array(data, 'hitl').map((item, i) => readHitl(item, `hitl[${i}]`)),
    timings: {
      started_at: string(timings, 'started_at', 'timings.'),
      ended_at: nullableString(timings, 'ended_at', 'timings.'),
      elapsed_s: number(timings, 'elapsed_s', 'timings.')
    },
    agent: { kind: string(agent, 'kind', 'agent.'), config: object(agent, 'config', 'agent.') },
    conversation_id: optionalString(data, 'conversation_id'),
    package_version: string(data, 'package_version'),
    transcript: typeof data['transcript'] === 'string' ? data['transcript'] : '',
    provenance: readProvenance(data['provenance'])
  };
}

/** Provenance is informative only: read what has the right type, and never refuse a report over it. */
function readProvenance(value: unknown): IProvenance | null {
  if (!isObject(value)) {
    return null;
  }
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const maybe = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
  const corpus = value['corpus'];
  const answers = Array.isArray(value['answers']) ? value['answers'] : [];
  const duration = value['duration_s'];
  return {
    agent: text(value['agent']),
    model: maybe(value['model']),
    llm_endpoint: maybe(value['llm_endpoint']),
    corpus: isObject(corpus)
      ? {
          path: text(corpus['path']),
          sha256: maybe(corpus['sha256']),
          documents: typeof corpus['documents'] === 'number' ? corpus['documents'] : 0
        }
      : null,
    answers: answers
      .filter(isObject)
      .map(a => ({ stage: text(a['stage']), feedback: text(a['feedback']), by: text(a['by']) })),
    date: text(value['date']),
    duration_s: typeof duration === 'number' && Number.isFinite(duration) ? duration : 0,
    transcript: maybe(value['transcript'])
  };
}

function readSource(item: unknown, where: string): ISource {
  if (!isObject(item)) {
    throw new ReportError(`${where} is not an object`);
  }
  const index = item['index'];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 1) {
    throw new ReportError(`${where}.index is ${describe(index)}, expected a whole number from 1`);
  }
  const source: ISource = {
    index,
    title: string(item, 'title', `${where}.`),
    url: string(item, 'url', `${where}.`)
  };
  const query = optionalString(item, 'query', `${where}.`);
  if (query) {
    source.query = query;
  }
  const passages = item['passages'];
  if (Array.isArray(passages)) {
    source.passages = passages.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  }
  for (const key of ['document', 'file'] as const) {
    const value = item[key];
    if (typeof value === 'string' && value.trim()) {
      source[key] = value;
    }
  }
  return source;
}

function readHitl(item: unknown, where: string): IHitlExchange {
  if (!isObject(item)) {
    throw new ReportError(`${where} is not an object`);
  }
  const prefix = `${where}.`;
  return {
    stage: string(item, 'stage', prefix),
    prompt: string(item, 'prompt', prefix),
    questions: optionalString(item, 'questions', prefix),
    outline: readOutline(item['outline']),
    feedback: string(item, 'feedback', prefix),
    message: string(item, 'message', prefix)
  };
}

/** An outline is free-form in the schema; keep what looks like a title and sections, drop the rest. */
function readOutline(value: unknown): IOutline | null {
  if (!isObject(value)) {
    return null;
  }
  const sections = Array.isArray(value['sections']) ? value['sections'] : [];
  return {
    title: typeof value['title'] === 'string' ? value['title'] : '',
    sections: sections.filter(isObject).map(section => ({
      title: typeof section['title'] === 'string' ? section['title'] : '',
      description: typeof section['description'] === 'string' ? section['description'] : ''
    }))
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'missing';
  }
  // JSON.stringify gives undefined for what JSON cannot hold (a function, a symbol): name its type.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function string(data: Record<string, unknown>, key: string, prefix = ''): string {
  const value = data[key];
  if (typeof value !== 'string') {
    throw new ReportError(`${prefix}${key} is ${describe(value)}, expected a string`);
  }
  return value;
}

function optionalString(data: Record<string, unknown>, key: string, prefix = ''): string {
  return data[key] === undefined ? '' : string(data, key, prefix);
}

function nullableString(data: Record<string, unknown>, key: string, prefix = ''): string | null {
  return data[key] === undefined || data[key] === null ? null : string(data, key, prefix);
}

function number(data: Record<string, unknown>, key: string, prefix = ''): number {
  const value = data[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ReportError(`${prefix}${key} is ${describe(value)}, expected a number`);
  }
  return value;
}

function object(data: Record<string, unknown>, key: string, prefix = ''): Record<string, unknown> {
  const value = data[key];
  if (!isObject(value)) {
    throw new ReportError(`${prefix}${key} is ${describe(value)}, expected an object`);
  }
  return value;
}

function array(data: Record<string, unknown>, key: string): unknown[] {
  const value = data[key];
  if (!Array.isArray(value)) {
    throw new ReportError(`${key} is ${describe(value)}, expected a list`);
  }
  return value;
}
