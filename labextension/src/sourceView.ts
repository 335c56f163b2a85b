/**
 * A source that opens in place. The report carries each source's quoted passages and its text, so a
 * click on the source (or on a citation of it) unfolds a view right there: the passages the report
 * quotes, then the document with those passages marked. A link to the file itself is offered only when
 * the Jupyter server can serve it: the file is under the server's root (computed against that root,
 * never against the notebook's folder); a web source keeps its link to the page.
 */

import { h } from './dom';
import type { ISource } from './report';
import { classifyUrl } from './urls';

/** Where sources may be opened inside JupyterLab (the rendermime link handler). */
export interface ISourceLinks {
  linkHandler: { handleLink(node: HTMLElement, path: string, id?: string): void } | null;
}

/** The page's Jupyter configuration (what `PageConfig` reads), or an empty object outside JupyterLab. */
function pageConfig(): Record<string, unknown> {
  const el = document.getElementById('jupyter-config-data');
  if (!el?.textContent) {
    return {};
  }
  try {
    const data: unknown = JSON.parse(el.textContent);
    return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `file` relative to the server's root, or null when it is not under it (or there is no server). */
export function underServerRoot(file: string, root: string): string | null {
  const norm = (p: string): string => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const base = norm(root);
  const path = norm(file);
  if (!base || !path.startsWith(`${base}/`) || path.split('/').includes('..')) {
    return null;
  }
  return path.slice(base.length + 1);
}

function serverFile(file: string): { path: string; href: string } | null {
  const config = pageConfig();
  const root = typeof config['serverRoot'] === 'string' ? config['serverRoot'] : '';
  const rel = root ? underServerRoot(file, root) : null;
  if (rel === null) {
    return null;
  }
  const base = typeof config['baseUrl'] === 'string' ? config['baseUrl'] : '/';
  const href = `${base.replace(/\/?$/, '/')}files/${rel.split('/').map(encodeURIComponent).join('/')}`;
  return { path: rel, href };
}

/** One entry of the sources list: index, a title that opens the source, its links, its hidden view. */
export function sourceEntry(source: ISource, id: string | undefined, links: ISourceLinks): HTMLLIElement {
  const title = source.title.trim() || source.url || `Source ${source.index}`;
  const viewId = id ? `${id}-view` : '';
  const readable = Boolean(source.document || source.passages?.length);
  const li = h(
    'li',
    { className: 'deepsearch-source', attrs: id ? { id, tabindex: '-1' } : {} },
    h('span', { className: 'deepsearch-source-index' }, `[${source.index}]`),
    ' '
  );
  if (readable) {
    const button = h(
      'button',
      {
        className: 'deepsearch-source-title deepsearch-source-open',
        attrs: { type: 'button', 'aria-expanded': 'false', ...(viewId ? { 'aria-controls': viewId } : {}) }
      },
      title
    );
    button.setAttribute('aria-label', `Source ${source.index}: ${title} (show the passage and the document)`);
    button.addEventListener('click', () => toggleSource(li));
    li.append(button);
  } else if (classifyUrl(source.url) === 'web') {
    const a = h('a', { className: 'deepsearch-source-title', attrs: { href: source.url.trim() } }, title);
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    li.append(a); // nothing to show in place: the title is the link to the page
  } else {
    li.append(h('span', { className: 'deepsearch-source-title' }, title));
  }
  const link = readable || classifyUrl(source.url) !== 'web' ? originalLink(source, links) : null;
  if (link) {
    li.append(' ', link);
  } else if (source.url && source.url !== title && classifyUrl(source.url) !== 'web') {
    li.append(h('span', { className: 'deepsearch-source-url' }, source.url));
  }
  if (source.query) {
    li.append(h('span', { className: 'deepsearch-source-query' }, `query: ${source.query}`));
  }
  if (readable) {
    li.append(sourceView(source, viewId));
  }
  return li;
}

/** A link to the original: the web page, or the file when the server can serve it. */
function originalLink(source: ISource, links: ISourceLinks): HTMLAnchorElement | null {
  const url = source.url.trim();
  if (classifyUrl(url) === 'web') {
    const a = h('a', { className: 'deepsearch-source-link', attrs: { href: url } }, 'open the web page');
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }
  const served = source.file ? serverFile(source.file) : null;
  if (!served) {
    return null; // a corpus-relative url, or a file outside the server's root: nothing that would open
  }
  const a = h('a', { className: 'deepsearch-source-link', attrs: { href: served.href } }, 'open the file');
  links.linkHandler?.handleLink(a, served.path);
  return a;
}

function sourceView(source: ISource, viewId: string): HTMLElement {
  const passages = source.passages ?? [];
  const view = h(
    'div',
    {
      className: 'deepsearch-source-view',
      attrs: { role: 'region', 'aria-label': `Source ${source.index}`, ...(viewId ? { id: viewId } : {}) }
    },
    passages.length
      ? h(
          'div',
          { className: 'deepsearch-source-passages' },
          h('div', { className: 'deepsearch-label' }, passages.length === 1 ? 'Quoted passage' : 'Quoted passages'),
          ...passages.map(p => h('blockquote', { className: 'deepsearch-source-passage' }, p))
        )
      : null,
    source.document
      ? h(
          'div',
          { className: 'deepsearch-source-document' },
          h('div', { className: 'deepsearch-label' }, 'The document'),
          markedText(source.document, passages)
        )
      : null
  );
  view.hidden = true;
  return view;
}

/** The document's text with the quoted passages marked (text nodes only: nothing becomes markup). */
function markedText(text: string, passages: string[]): HTMLElement {
  const box = h('div', { className: 'deepsearch-source-text', attrs: { tabindex: '0' } });
  const spans: [number, number][] = [];
  for (const passage of passages) {
    const at = text.indexOf(passage);
    if (at >= 0) {
      spans.push([at, at + passage.length]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  let last = 0;
  for (const [start, end] of spans) {
    if (start < last) {
      continue;
    }
    box.append(text.slice(last, start), h('mark', { className: 'deepsearch-source-mark' }, text.slice(start, end)));
    last = end;
  }
  box.append(text.slice(last));
  return box;
}

/** Show or hide a source's view; `open` forces it open (a citation was followed). */
export function toggleSource(li: Element, open?: boolean): void {
  const view = li.querySelector<HTMLElement>(':scope > .deepsearch-source-view');
  const button = li.querySelector<HTMLElement>(':scope > .deepsearch-source-open');
  if (!view) {
    return;
  }
  const show = open ?? view.hidden;
  view.hidden = !show;
  button?.setAttribute('aria-expanded', String(show));
  if (show) {
    view.querySelector('mark')?.scrollIntoView?.({ block: 'nearest' });
  }
}
