import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { fixture, render } from './helpers';

const URL_ATTRIBUTES = ['href', 'src', 'xlink:href', 'action', 'formaction', 'background', 'poster'];
const SCRIPT_SCHEME = /^\s*(javascript|vbscript|data:text)/i;

/** Every way the rendered DOM could still run code, as readable strings; [] when inert. */
function activeContent(root: Element): string[] {
  const found: string[] = [];
  for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
    if (['script', 'iframe', 'object', 'embed', 'form'].includes(el.localName)) {
      found.push(`<${el.localName}>`);
    }
    for (const attr of Array.from(el.attributes)) {
      const value = attr.value.replace(/[\t\n\r]/g, '');
      if (attr.name.toLowerCase().startsWith('on')) {
        found.push(`${el.localName}[${attr.name}]`);
      } else if (URL_ATTRIBUTES.includes(attr.name.toLowerCase()) && SCRIPT_SCHEME.test(value)) {
        found.push(`${el.localName}[${attr.name}=${attr.value}]`);
      } else if (attr.name.startsWith('data-commandlinker')) {
        found.push(`${el.localName}[${attr.name}]`);
      } else if (attr.name === 'style' && /javascript:|expression\(/i.test(value)) {
        found.push(`${el.localName}[style]`);
      }
    }
  }
  return found;
}

describe('hostile content in every field', () => {
  beforeEach(() => {
    vi.spyOn(window, 'alert').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    document.body.replaceChildren();
  });

  it('renders inert: no scripts, no event handlers, no script URLs, no command links', async () => {
    const { node } = await render(fixture('hostile'));
    document.body.append(node);
    expect(activeContent(node)).toEqual([]);
    expect(node.querySelectorAll('script, [onerror], [onload], [onclick], [onmouseover]')).toHaveLength(0);
    expect(node.querySelectorAll('[href^="javascript:" i], [src^="javascript:" i]')).toHaveLength(0);
    expect(window.alert).not.toHaveBeenCalled();
  });

  it('loads nothing from another host: remote images become text, media and CSS urls are dropped', async () => {
    const data = fixture('completed');
    data.report_markdown =
      'Pixel ![tracker](https://evil.example/p.gif) and <img src="//evil.example/x.png" alt="x">.\n\n' +
      '<video src="https://evil.example/v.mp4" poster="https://evil.example/p.png"></video>' +
      '<p style="background: url(https://evil.example/bg.png)">styled</p>' +
      '<img src="https://evil.example/s.png" srcset="https://evil.example/2x.png 2x">\n\n' +
      'Local ![chart](chart.png) stays.';
    const { node } = await render(data);
    const body = node.querySelector('.deepsearch-body')!;
    expect(body.querySelectorAll('[src*="evil"], [href*="evil.example/p"]')).toHaveLength(0);
    expect(body.querySelectorAll('video, source, [srcset], [poster]')).toHaveLength(0);
    expect(Array.from(body.querySelectorAll('img')).map(img => img.getAttribute('src'))).toEqual([
      expect.stringContaining('chart.png')
    ]);
    expect(Array.from(body.querySelectorAll('.deepsearch-image-removed')).map(e => e.textContent)).toEqual([
      '[image: tracker]',
      '[image: x]',
      '[image: not loaded]'
    ]);
    expect(body.querySelector('[style*="url("]')).toBeNull();
    expect(body.textContent).toContain('styled');
  });

  it('shows markup in plain fields as text', async () => {
    const { node } = await render(fixture('hostile'));
    expect(node.querySelector('.deepsearch-title')!.textContent).toBe(
      '<script>alert("title")</script><b onmouseover="alert(2)">Title</b>'
    );
    expect(node.querySelector('.deepsearch-title b')).toBeNull();
    expect(node.querySelector('.deepsearch-error')!.textContent).toContain('<svg onload="alert(3)"></svg>');
    const meta = node.querySelector('details[data-part="meta"]')!;
    expect(meta.textContent).toContain("<script>alert('kind')</script>");
    expect(meta.querySelector('img, script, svg')).toBeNull();
  });

  it('shows a source URL with a script scheme as text, never as a link', async () => {
    const { node } = await render(fixture('hostile'));
    const items = Array.from(node.querySelectorAll('.deepsearch-sources > li'));
    expect(items).toHaveLength(6);
    for (const item of items.slice(0, 5)) {
      expect(item.querySelector('a')).toBeNull();
    }
    expect(items[0].textContent).toContain("javascript:alert('source url')");
    expect(items[0].textContent).toContain("<script>alert('source title')</script>");
    const ok = items[5].querySelector('a')!;
    expect(ok.getAttribute('href')).toBe('https://example.org/ok?a=1&b=<2>');
    expect(ok.textContent).toBe('a normal <b>https</b> link'); // no document to open in place: the title links
  });

  it('keeps citation links working next to hostile Markdown', async () => {
    const { node } = await render(fixture('hostile'));
    const links = node.querySelectorAll('a.deepsearch-citation');
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(node.querySelector(`[id="${link.getAttribute('href')!.slice(1)}"]`)).not.toBeNull();
    }
  });
});
