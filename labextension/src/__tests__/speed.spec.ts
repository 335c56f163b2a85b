import { readFileSync } from 'node:fs';

import { Widget } from '@lumino/widgets';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { dropRemoteResources, mayHoldMath } from '../markdown';
import { MEASURED_CLASS, SECTION_CLASS, measureSections, scrollIntoViewSettled, sectionize } from '../sections';
import { ReportWidget } from '../widget';
import { fixture, fromHere, render, rendererOptions } from './helpers';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

function host(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

describe('the body in sections that are laid out only near the screen', () => {
  it('starts a section at each heading of the top level, keeping every node in order', () => {
    const body = host('<p>intro</p><h3>One</h3><p>a</p><h4>sub</h4><p>b</p>\n<h3>Two</h3><ul><li>c</li></ul>');
    const before = body.textContent;
    sectionize(body);
    const sections = Array.from(body.children);
    expect(sections.map(s => s.localName)).toEqual(['section', 'section', 'section']);
    expect(sections.every(s => s.classList.contains(SECTION_CLASS))).toBe(true);
    expect(sections.map(s => Array.from(s.children, c => c.localName).join(' '))).toEqual(['p', 'h3 p h4 p', 'h3 ul']);
    expect(body.textContent).toBe(before);
  });

  it('makes one section of a body without headings, and none of an empty one', () => {
    const flat = host('<p>a</p><p>b</p>');
    sectionize(flat);
    expect(flat.children).toHaveLength(1);
    expect(flat.firstElementChild!.children).toHaveLength(2);
    const empty = host('  ');
    sectionize(empty);
    expect(empty.childNodes).toHaveLength(0);
  });

  it('renders a report as sections, one per top-level heading, citations and anchors inside', async () => {
    const { node } = await render(fixture('cited'));
    const body = node.querySelector('.deepsearch-body')!;
    const sections = Array.from(body.children);
    expect(sections.length).toBeGreaterThan(3);
    expect(sections.every(s => s.localName === 'section' && s.classList.contains(SECTION_CLASS))).toBe(true);
    const headings = body.querySelectorAll('h3');
    expect(sections.filter(s => s.firstElementChild?.localName === 'h3')).toHaveLength(headings.length);
    expect(body.querySelectorAll('a.deepsearch-citation').length).toBeGreaterThan(10);
  });

  it("still follows the report's own table of contents to an anchor inside a section", async () => {
    const { node } = await render(fixture('cited'));
    document.body.append(node);
    const scroll = vi.fn();
    HTMLElement.prototype.scrollIntoView = scroll;
    const toc = Array.from(node.querySelectorAll('a')).find(a => a.getAttribute('href') === '#chapter-3')!;
    const target = node.querySelector('[data-jupyter-id="chapter-3"]')!;
    expect(target.closest(`.${SECTION_CLASS}`)).not.toBeNull();
    const event = new MouseEvent('click', { bubbles: true, cancelable: true });
    toc.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(target.classList.contains('deepsearch-target')).toBe(true);
    expect(scroll).toHaveBeenCalled();
  });

  it('gives sections content-visibility: auto, except while an evidence popup is open in one', () => {
    const css = readFileSync(fromHere('../../style/base.css'), 'utf-8').replace(/\/\*[\s\S]*?\*\//g, '');
    const rule = (selector: string): string => {
      const at = css.indexOf(selector);
      expect(at, selector).toBeGreaterThanOrEqual(0);
      return css.slice(css.indexOf('{', at), css.indexOf('}', at));
    };
    expect(rule('.deepsearch-report .deepsearch-section {')).toMatch(/content-visibility:\s*auto/);
    expect(rule('.deepsearch-report .deepsearch-section {')).toMatch(/contain-intrinsic-size:\s*auto \d+px/);
    const open = rule('.deepsearch-report .deepsearch-section:has(.deepsearch-cite:hover)');
    expect(open).toMatch(/content-visibility:\s*visible/);
    expect(css).toContain('.deepsearch-report .deepsearch-section:focus-within');
  });
});

describe('each section keeps its own height off screen', () => {
  function sections(count: number): { body: HTMLElement; laidOut: string[] } {
    const body = host(Array.from({ length: count }, (_, i) => `<h3>S${i}</h3><p>text ${i}</p>`).join(''));
    sectionize(body);
    document.body.append(body);
    const laidOut: string[] = [];
    for (const section of Array.from(body.children)) {
      vi.spyOn(section, 'getBoundingClientRect').mockImplementation(() => {
        expect(section.classList.contains(MEASURED_CLASS)).toBe(true); // laid out while not skipped
        laidOut.push(section.textContent ?? '');
        return new DOMRect();
      });
    }
    return { body, laidOut };
  }

  it('lays every section out once in idle time, each through one frame, then lets it be skipped again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'requestAnimationFrame', 'performance'] });
    const { body, laidOut } = sections(5);
    measureSections(body);
    expect(laidOut).toEqual([]); // nothing before the first idle moment: the first paint goes first
    await vi.runAllTimersAsync();
    expect(laidOut).toEqual(['S0text 0', 'S1text 1', 'S2text 2', 'S3text 3', 'S4text 4']);
    expect(body.querySelectorAll(`.${MEASURED_CLASS}`)).toHaveLength(0);
  });

  it('lays out at once what is left when a link is followed, and stops when a newer render replaced it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'requestAnimationFrame', 'performance'] });
    const { body } = sections(3);
    const layout = vi.spyOn(body, 'getBoundingClientRect');
    const measuring = measureSections(body);
    measuring.flush();
    expect(layout).toHaveBeenCalledTimes(1);
    expect(body.querySelectorAll(`.${MEASURED_CLASS}`)).toHaveLength(3);
    await vi.runAllTimersAsync();
    expect(body.querySelectorAll(`.${MEASURED_CLASS}`)).toHaveLength(0);

    const replaced = sections(3);
    measureSections(replaced.body);
    replaced.body.remove();
    await vi.runAllTimersAsync();
    expect(replaced.laidOut).toEqual([]);
  });

  it('scrolls to a target again while the sections above it change height', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'requestAnimationFrame'] });
    const target = document.createElement('div');
    document.body.append(target);
    const tops = [0, 700, 0, 0, 0, 0]; // a section above grew by 700 px in the first frame
    vi.spyOn(target, 'getBoundingClientRect').mockImplementation(() => new DOMRect(0, tops.shift() ?? 0, 10, 10));
    const scroll = vi.fn();
    target.scrollIntoView = scroll;
    scrollIntoViewSettled(target, { block: 'center' });
    await vi.runAllTimersAsync();
    expect(scroll).toHaveBeenCalledTimes(2);
    expect(scroll).toHaveBeenLastCalledWith({ block: 'center' });
  });

  it('measures the sections of a rendered report once it is on the page', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'requestAnimationFrame', 'performance'] });
    const widget = await render(fixture('cited'));
    const body = widget.node.querySelector('.deepsearch-body')!;
    const added = vi.spyOn(DOMTokenList.prototype, 'add');
    await vi.runAllTimersAsync();
    expect(added).not.toHaveBeenCalledWith(MEASURED_CLASS); // not attached: nothing to lay out
    Widget.attach(widget, document.body);
    await vi.runAllTimersAsync();
    expect(added.mock.calls.filter(call => call[0] === MEASURED_CLASS)).toHaveLength(body.children.length);
    Widget.detach(widget);
  });
});

describe('math is typeset only when the report may hold some', () => {
  it.each([
    ['inline $x^2$ math', true],
    ['display $$\\sum_i x_i$$', true],
    ['a price of 5 $ a unit', true],
    ['\\(a+b\\) and \\[c\\]', true],
    ['\\begin{equation}e=mc^2\\end{equation}', true],
    ['plain text [citation:1], (brackets) and \\ backslashes', false]
  ])('%s: %s', (markdown, expected) => {
    expect(mayHoldMath(markdown)).toBe(expected);
  });

  it('does not hand a report without math delimiters to the typesetter', async () => {
    const options = rendererOptions();
    const typeset = vi.fn().mockResolvedValue(undefined);
    options.latexTypesetter = { typeset };
    const data = fixture('cited');
    expect(mayHoldMath(String(data.report_markdown))).toBe(false);
    const widget = await render(data, new ReportWidget(options));
    Widget.attach(widget, document.body);
    await render(data, widget);
    expect(typeset).not.toHaveBeenCalled();
    Widget.detach(widget);
  });
});

describe('dropping remote resources', () => {
  it('returns HTML with nothing to drop as it is, without parsing it again', () => {
    const html = '<h3>Costs</h3><p>The <a href="https://example.org">background</a> of prices.</p>';
    const parse = vi.spyOn(DOMParser.prototype, 'parseFromString');
    expect(dropRemoteResources(html)).toBe(html);
    expect(parse).not.toHaveBeenCalled();
  });

  it('still drops what loads from another host, whatever the case or spelling of the tag', () => {
    const html =
      '<IMG SRC="https://evil.example/a.png" alt="a"><image src="https://evil.example/b.png">' +
      '<p STYLE = "background: url(https://evil.example/c.png)">x</p>';
    const out = host(dropRemoteResources(html));
    expect(out.querySelectorAll('img, [style]')).toHaveLength(0);
    expect(out.querySelectorAll('.deepsearch-image-removed')).toHaveLength(2);
  });
});
