import { afterEach, describe, expect, it, vi } from 'vitest';

import { fixture, render } from './helpers';

afterEach(() => {
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

/** Press "Download .html" on a rendered report; the file name and the page it saved. */
async function downloadPage(name: string): Promise<{ filename: string; page: string }> {
  const { node } = await render(fixture(name));
  const blobs: Blob[] = [];
  URL.createObjectURL = vi.fn((blob: Blob) => {
    blobs.push(blob);
    return 'blob:page';
  });
  URL.revokeObjectURL = vi.fn();
  const clicked: HTMLAnchorElement[] = [];
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    clicked.push(this);
  });
  const button = node.querySelector<HTMLButtonElement>(
    'button[aria-label="Download the report as a standalone HTML page"]'
  )!;
  expect(button.textContent).toBe('Download .html');
  button.click();
  expect(clicked).toHaveLength(1);
  expect(blobs[0].type).toBe('text/html;charset=utf-8');
  return { filename: clicked[0].download, page: await readBlob(blobs[0]) };
}

function parse(page: string): Document {
  return new DOMParser().parseFromString(page, 'text/html');
}

describe('Download .html', () => {
  it('saves a standalone page whose citations land on its own sources list', async () => {
    const { filename, page } = await downloadPage('completed');
    expect(filename).toBe('a-short-history-of-tea.html');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain(`content="default-src 'none'`);
    const doc = parse(page);
    expect(doc.title).toBe('A short history of tea');
    expect(doc.querySelector('button, script, img, iframe')).toBeNull();
    const citations = Array.from(doc.querySelectorAll<HTMLAnchorElement>('a.deepsearch-citation'));
    expect(citations.length).toBe(11);
    for (const link of citations) {
      const target = doc.getElementById(link.getAttribute('href')!.slice(1));
      expect(target, link.getAttribute('href')!).not.toBeNull();
      expect(target!.closest('.deepsearch-sources')).not.toBeNull();
    }
    expect(Array.from(doc.querySelectorAll('details')).every(d => d.hasAttribute('open'))).toBe(true);
  });

  it('leaves nothing live of the hostile report', async () => {
    const { page } = await downloadPage('hostile');
    const doc = parse(page);
    expect(doc.querySelector('script, img, iframe, svg, form, object, embed, link, base')).toBeNull();
    for (const element of Array.from(doc.body.querySelectorAll('*'))) {
      for (const attr of Array.from(element.attributes)) {
        expect(attr.name.startsWith('on'), `${element.localName}[${attr.name}]`).toBe(false);
        // eslint-disable-next-line no-control-regex -- matching C0 control characters is the point
        const value = attr.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
        expect(/^(javascript|vbscript|data):/.test(value), `${element.localName}[${attr.name}]`).toBe(false);
      }
    }
  });
});

/** The text of a Blob (jsdom's Blob has no `text()`). */
function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('the Blob could not be read'));
    reader.readAsText(blob);
  });
}
