/**
 * The evidence behind each citation (issue 15): a popup with the passage, the source's title and
 * where it is, shown on hover and keyboard focus; the check's header line; weak citations marked.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';

import { fixture, render, text } from './helpers';

afterEach(() => {
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

describe('citation evidence', () => {
  it('gives every citation of a checked report its passage, source and place', async () => {
    const data = fixture('cited');
    const { node } = await render(data);
    const check = data['citation_check'] as { summary: string; markers: { n: number; status: string }[] };
    expect(text(node, '.deepsearch-citation-summary')).toBe(check.summary);
    const cites = Array.from(node.querySelectorAll<HTMLElement>('.deepsearch-body sup.deepsearch-cite'));
    expect(cites).toHaveLength(check.markers.length);
    cites.forEach((sup, k) => {
      const link = sup.querySelector('a.deepsearch-citation')!;
      const popup = sup.querySelector('.deepsearch-evidence')!;
      expect(link.getAttribute('aria-describedby')).toBe(popup.id);
      expect(popup.getAttribute('role')).toBe('tooltip');
      expect(popup.querySelector('q')!.textContent.length).toBeGreaterThan(20);
      expect(popup.querySelector('.deepsearch-evidence-source')!.textContent).toMatch(/\.(md|txt|html), line \d+/);
      const marker = check.markers[k];
      expect(sup.classList.contains(`deepsearch-cite-${marker.status}`)).toBe(true);
      expect(link.textContent).toBe(marker.status === 'weak' ? `[${marker.n}?]` : `[${marker.n}]`);
    });
    expect(node.querySelectorAll('.deepsearch-cite-weak').length).toBeGreaterThan(0);
  });

  it('keeps the plain title of a citation in an older report without evidence', async () => {
    const { node } = await render(fixture('completed'));
    expect(node.querySelector('.deepsearch-evidence')).toBeNull();
    expect(node.querySelector('.deepsearch-citation-summary')).toBeNull();
    expect(node.querySelector('a.deepsearch-citation')!.getAttribute('title')).toBeTruthy();
  });

  it('shows a hostile passage, title and summary as text only', async () => {
    vi.spyOn(window, 'alert').mockImplementation(() => undefined);
    const data = fixture('hostile');
    const { node } = await render(data);
    document.body.append(node);
    const popups = Array.from(node.querySelectorAll('.deepsearch-evidence'));
    expect(popups.length).toBeGreaterThan(0);
    for (const popup of popups) {
      expect(Array.from(popup.querySelectorAll('*')).map(e => e.localName)).toEqual(
        expect.arrayContaining(['q', 'span'])
      );
      expect(popup.querySelectorAll('script, img, svg, b, [onerror], [onclick], [onmouseover]')).toHaveLength(0);
    }
    const evidence = data['evidence'] as Record<string, { passages: { text: string }[] }>;
    expect(popups.map(p => p.querySelector('q')!.textContent)).toContain(
      evidence['1'].passages[0].text.split(/\s+/).join(' ')
    );
    expect(text(node, '.deepsearch-citation-summary')).toContain("<script>alert('summary')</script>");
    expect(node.querySelectorAll('.deepsearch-report script, .deepsearch-citation-summary *')).toHaveLength(0);
    expect(window.alert).not.toHaveBeenCalled();
  });
});
