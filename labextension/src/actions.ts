/**
 * "Copy Markdown" and "Download .md": both hand over the report's Markdown exactly as the agent
 * wrote it (with its own reference list), so the copy reads the same outside JupyterLab.
 * "Download .html": the report as shown, as a standalone page that loads nothing (see ./exportHtml).
 */

import { h } from './dom';

/** The action buttons, and a polite live region that says what happened. `page` builds the HTML page
 * when its button is pressed (the view is complete by then). */
export function actionsBar(markdown: string, fileStem: string, page?: () => string): HTMLElement {
  const status = h('span', { className: 'deepsearch-action-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const copy = h(
    'button',
    { className: 'deepsearch-button', attrs: { type: 'button', 'aria-label': 'Copy the report as Markdown' } },
    'Copy Markdown'
  );
  const download = h(
    'button',
    {
      className: 'deepsearch-button',
      attrs: { type: 'button', 'aria-label': 'Download the report as a Markdown file' }
    },
    'Download .md'
  );
  copy.addEventListener('click', () => {
    void copyText(markdown).then(ok => {
      status.textContent = ok ? 'Copied.' : 'Copy failed: select the text and copy it by hand.';
    });
  });
  download.addEventListener('click', () => {
    downloadText(markdown, `${fileStem}.md`);
    status.textContent = `Saved as ${fileStem}.md.`;
  });
  const html = page
    ? h(
        'button',
        {
          className: 'deepsearch-button',
          attrs: { type: 'button', 'aria-label': 'Download the report as a standalone HTML page' }
        },
        'Download .html'
      )
    : null;
  html?.addEventListener('click', () => {
    downloadText(page!(), `${fileStem}.html`, 'text/html;charset=utf-8');
    status.textContent = `Saved as ${fileStem}.html.`;
  });
  return h(
    'div',
    { className: 'deepsearch-actions', attrs: { role: 'group', 'aria-label': 'Report actions' } },
    copy,
    download,
    html,
    status
  );
}

/** Copy text with the async clipboard API, falling back to a selection copy where it is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied (no focus, no permission): try the older way below.
  }
  const area = h('textarea', { className: 'deepsearch-offscreen', attrs: { readonly: '', 'aria-hidden': 'true' } });
  area.value = text;
  document.body.appendChild(area);
  try {
    area.select();
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

/** Save text as a file through a temporary object URL. */
export function downloadText(text: string, filename: string, type = 'text/markdown;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { attrs: { href: url, download: filename } });
  document.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Revoke on the next turn: some browsers start the download only after the click handler returns.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

/** A file name stem from a title: letters, digits and dashes, at most 60 characters. */
export function fileStem(title: string): string {
  const stem = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return stem || 'deepsearch-report';
}
