/**
 * Test helpers: the shared JSON fixtures (the same files the Python tests read) and a renderer set
 * up as JupyterLab sets it up, with its real sanitizer and a marked-based Markdown parser.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { Sanitizer } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { marked } from 'marked';
import { type Mock, vi } from 'vitest';

import { MIME_TYPE, ReportWidget } from '../widget';

/** The folder with the shared report fixtures. */
export const FIXTURES = fromHere('../../../tests/data/reports/');

/** A path relative to this folder (jsdom replaces `URL`, so no `fileURLToPath`). */
export function fromHere(relative: string): string {
  return decodeURIComponent(new URL(relative, import.meta.url).pathname);
}

/** Read a fixture by name (without `.json`). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(FIXTURES, `${name}.json`), 'utf-8')) as Record<string, unknown>;
}

/** A resolver like a notebook's: paths are relative to `notebooks/`, files download from `/files/`. */
export const resolver: IRenderMime.IResolver = {
  resolveUrl: (url: string) => Promise.resolve(URLExt.join('notebooks', url)),
  getDownloadUrl: (urlPath: string) => Promise.resolve(`/files/${urlPath}`),
  isLocal: (url: string) => URLExt.isLocal(url)
};

/** The renderer options JupyterLab would pass, with spies where the test wants to look. */
export function rendererOptions(): IRenderMime.IRendererOptions & {
  linkHandler: { handleLink: Mock<IRenderMime.ILinkHandler['handleLink']> };
} {
  return {
    mimeType: MIME_TYPE,
    sanitizer: new Sanitizer(),
    resolver,
    linkHandler: { handleLink: vi.fn() },
    latexTypesetter: null,
    markdownParser: { render: (source: string) => Promise.resolve(marked.parse(source, { async: false })) }
  };
}

/** Render `data` in a new widget and return it. */
export async function render(data: unknown, widget = new ReportWidget(rendererOptions())): Promise<ReportWidget> {
  await widget.renderModel(new MimeModel({ data: { [MIME_TYPE]: data as never } }));
  return widget;
}

/** The text of the first element matching `selector`, trimmed ('' when there is none). */
export function text(root: Element, selector: string): string {
  return root.querySelector(selector)?.textContent?.trim() ?? '';
}

/** The sidebar's actions, each a mock (what a test clicks is what it checks was called). */
export function sidebarActions(): Record<'goToCell' | 'cancel' | 'answer' | 'openSaved' | 'resume' | 'refresh', Mock> {
  return {
    goToCell: vi.fn(),
    cancel: vi.fn(),
    answer: vi.fn(),
    openSaved: vi.fn(),
    resume: vi.fn(),
    refresh: vi.fn()
  };
}
