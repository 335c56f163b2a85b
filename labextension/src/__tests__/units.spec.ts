import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { fileStem } from '../actions';
import { foldReferences } from '../markdown';
import { formatSeconds } from '../parts';
import { readReport } from '../report';
import { classifyUrl } from '../urls';
import { fixture, fromHere } from './helpers';

describe('classifyUrl', () => {
  it.each([
    ['https://example.org/a', 'web'],
    ['HTTP://example.org', 'web'],
    ['//example.org/x', 'web'],
    ['corpus/a.md', 'relative'],
    ['./a.pdf', 'relative'],
    ['/files/a.pdf', 'relative'],
    ['#section', 'relative'],
    ['javascript:alert(1)', 'unsafe'],
    [' JAVASCRIPT:alert(1)', 'unsafe'],
    ['java\tscript:alert(1)', 'unsafe'],
    ['\u0001javascript:alert(1)', 'unsafe'],
    ['data:text/html,x', 'unsafe'],
    ['vbscript:x', 'unsafe'],
    ['file:///etc/passwd', 'unsafe'],
    ['', 'unsafe']
  ])('%j is %s', (url, kind) => {
    expect(classifyUrl(url)).toBe(kind);
  });
});

describe('foldReferences', () => {
  const report =
    '# R\n\nText [citation:1].\n\n# Reference Articles\n\n[1] [A](https://a)\n\n[2] [B](b.md)\n\n---\n\n> AI.\n';

  it('removes the list when the sources hold every entry, keeping what follows', () => {
    expect(foldReferences(report, new Set([1, 2]))).toBe('# R\n\nText [citation:1].\n\n---\n\n> AI.\n');
  });

  it('keeps the list when it names a source the data lacks', () => {
    expect(foldReferences(report, new Set([1]))).toBe(report);
  });

  it('keeps the list when an entry is not in the agent format', () => {
    const odd = report.replace('[2] [B](b.md)', '[2] B, page 3');
    expect(foldReferences(odd, new Set([1, 2]))).toBe(odd);
  });

  it('reads urls with spaces and parentheses, as the Python parser does', () => {
    const spaced = report.replace('(b.md)', '(docs/My Notes (2024).md)');
    expect(foldReferences(spaced, new Set([1, 2]))).toBe('# R\n\nText [citation:1].\n\n---\n\n> AI.\n');
  });

  it('reads Windows line endings', () => {
    const crlf = report.replace(/\n/g, '\r\n');
    expect(foldReferences(crlf, new Set([1, 2]))).not.toContain('Reference Articles');
  });

  it('leaves a report without the heading alone', () => {
    expect(foldReferences('# R\n\nno refs', new Set([1]))).toBe('# R\n\nno refs');
  });
});

describe('small formatters', () => {
  it('formats durations', () => {
    expect(formatSeconds(0.42)).toBe('0.4 s');
    expect(formatSeconds(138.4)).toBe('2 min 18 s');
    expect(formatSeconds(3725)).toBe('1 h 02 min');
  });

  it('makes file names from titles', () => {
    expect(fileStem('A short history of tea')).toBe('a-short-history-of-tea');
    expect(fileStem('<script>/../etc</script>')).toBe('script-etc-script');
    expect(fileStem('Café & Crème')).toBe('cafe-creme');
    expect(fileStem('???')).toBe('deepsearch-report');
  });
});

describe('readReport on the shared fixtures', () => {
  it.each(['completed', 'cancelled_partial', 'failed', 'hostile'])('reads %s as a version 1 report', name => {
    expect(readReport(fixture(name)).kind).toBe('report');
  });

  it('reads unknown_version as newer', () => {
    expect(readReport(fixture('unknown_version'))).toEqual({ kind: 'newer', version: 2, packageVersion: '0.3.0' });
  });
});

describe('the stylesheet', () => {
  const css = readFileSync(fromHere('../../style/base.css'), 'utf-8').replace(/\/\*[\s\S]*?\*\//g, '');

  it('takes every colour and size variable from the JupyterLab theme', () => {
    const variables = Array.from(css.matchAll(/var\((--[\w-]+)/g), m => m[1]);
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter(name => !name.startsWith('--jp-'))).toEqual([]);
    expect(css).not.toMatch(/#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(/i);
  });

  it('prefixes every class it styles with deepsearch-', () => {
    const classes = Array.from(css.matchAll(/\.([a-zA-Z][\w-]*)/g), m => m[1]);
    expect(classes.filter(name => !name.startsWith('deepsearch-'))).toEqual([]);
  });
});
