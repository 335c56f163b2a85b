import { afterEach, describe, expect, it } from 'vitest';

import { readReport } from '../report';
import { fixture, render } from './helpers';

afterEach(() => {
  document.body.replaceChildren();
});

/** The completed fixture with the provenance and transcript a current writer adds. */
function withProvenance(): Record<string, unknown> {
  return {
    ...fixture('completed'),
    transcript: '.deepsearch/transcripts/nb_1234.jsonl',
    provenance: {
      agent: 'local',
      model: 'stub-model',
      llm_endpoint: 'http://127.0.0.1:9/v1',
      corpus: { path: '/data/tea', sha256: 'ab12cd34', documents: 7 },
      answers: [
        { stage: 'clarification', feedback: '', by: 'scripted' },
        { stage: 'outline_review', feedback: 'accepted', by: 'person' }
      ],
      date: '2026-11-20T09:14:03Z',
      duration_s: 138,
      transcript: '.deepsearch/transcripts/nb_1234.jsonl'
    }
  };
}

function details(node: HTMLElement): Map<string, string> {
  const terms = Array.from(node.querySelectorAll('.deepsearch-meta dt'));
  return new Map(terms.map(dt => [dt.textContent ?? '', dt.nextElementSibling?.textContent ?? '']));
}

describe('provenance', () => {
  it('shows model, corpus fingerprint, who answered and the transcript in the run details', async () => {
    const rows = details((await render(withProvenance())).node);
    expect(rows.get('Model')).toBe('stub-model at http://127.0.0.1:9/v1');
    expect(rows.get('Corpus')).toBe('/data/tea (7 documents)');
    expect(rows.get('Corpus fingerprint')).toBe('sha256 ab12cd34');
    expect(rows.get('Answer 1')).toBe('clarification: no comment (by scripted)');
    expect(rows.get('Answer 2')).toBe('outline_review: accepted (by person)');
    expect(rows.get('Transcript')).toBe('.deepsearch/transcripts/nb_1234.jsonl');
  });

  it('is optional, and a damaged provenance never refuses the report', async () => {
    const rows = details((await render(fixture('completed'))).node);
    expect(rows.has('Corpus fingerprint') || rows.has('Transcript')).toBe(false);
    const damaged = { ...fixture('completed'), provenance: { corpus: 5, answers: 'x', model: 3 }, transcript: 7 };
    const result = readReport(damaged);
    expect(result.kind).toBe('report');
    expect(result.kind === 'report' && result.report.provenance?.corpus).toBeNull();
  });
});
