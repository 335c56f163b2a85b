/**
 * The report body: Markdown rendered by JupyterLab (its parser, sanitizer and URL resolver), then
 * citations turned into links to the sources list, and a last pass that removes anything active
 * the sanitizer may have let through.
 */

import { renderMarkdown } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { type CitationEvidence, citationMark, evidencePopup, type ICite } from './evidence';
import { classifyUrl, isKeptUrl } from './urls';

const REFERENCE_HEADING = /^#{1,6}[ \t]*Reference Articles[ \t]*#*[ \t\r]*$/gim;
// As deepsearch_nb's parser reads them: the url runs to the line's last ")" (local paths hold spaces).
const REFERENCE_LINE = /^[ \t]*\[(\d+)\][ \t]*\[[^\]\n]*\]\([^\n]*\)[ \t\r]*$/;

/**
 * Remove the agent's trailing `# Reference Articles` list when the sources list shows the same
 * entries, so a reader sees one list of sources, not two. Anything after the list is kept.
 */
export function foldReferences(markdown: string, sourceIndexes: ReadonlySet<number>): string {
  const headings = [...markdown.matchAll(REFERENCE_HEADING)];
  const heading = headings[headings.length - 1];
  if (heading?.index === undefined) {
    return markdown;
  }
  const lines = markdown.slice(heading.index + heading[0].length).split('\n');
  let consumed = 0;
  let references = 0;
  for (const line of lines) {
    const match = REFERENCE_LINE.exec(line);
    if (match) {
      if (!sourceIndexes.has(Number(match[1]))) {
        return markdown; // the list names a source the report data lacks: keep the agent's list
      }
      references += 1;
    } else if (/^\s*\[\d+\]/.test(line)) {
      return markdown; // an entry this reader does not understand: fold nothing rather than half
    } else if (line.trim()) {
      break;
    }
    consumed += 1;
  }
  if (references === 0) {
    return markdown;
  }
  const before = markdown.slice(0, heading.index).replace(/\s+$/, '');
  const after = lines.slice(consumed).join('\n');
  return after.trim() ? `${before}\n\n${after}` : `${before}\n`;
}

/** The renderer options JupyterLab hands a MIME renderer, as `renderMarkdown` needs them. */
export type MarkdownOptions = Pick<
  IRenderMime.IRendererOptions,
  'sanitizer' | 'resolver' | 'linkHandler' | 'latexTypesetter' | 'markdownParser' | 'translator'
>;

// What JupyterLab's typesetter (MathJax) looks for: $...$, $$...$$, \(...\), \[...\], \begin{...}.
const MATH_DELIMITER = /\$|\\\(|\\\[|\\begin\{/;

/**
 * Whether Markdown may hold math for the typesetter. Without any of its delimiters there is nothing to
 * typeset, and skipping it saves a walk over every text node of the body (a tenth of a second for a
 * 1 MB report). A dollar sign in a price still counts: the typesetter decides what is math.
 */
export function mayHoldMath(markdown: string): boolean {
  return MATH_DELIMITER.test(markdown);
}

/**
 * Render report Markdown into `host` with JupyterLab's pipeline (math is left for the caller to
 * typeset). The content always counts as untrusted: it comes from web pages and a language model,
 * whatever the notebook's trust state.
 */
export async function renderReportMarkdown(host: HTMLElement, source: string, options: MarkdownOptions): Promise<void> {
  await renderMarkdown({
    host,
    source,
    trusted: false,
    sanitizer: offlineSanitizer(options.sanitizer),
    resolver: options.resolver ?? null,
    linkHandler: options.linkHandler ?? null,
    latexTypesetter: options.latexTypesetter ?? null,
    markdownParser: options.markdownParser ?? null,
    shouldTypeset: false, // the caller typesets once the body is on the page
    translator: options.translator
  });
  scrubActiveContent(host);
}

/**
 * A sanitizer that also drops what would load from another host: a report's images, media and CSS
 * URLs would make every viewer of the notebook send requests (a tracking pixel). It works on the
 * sanitized HTML in an inert `DOMParser` document, before anything is put on the page: a browser starts
 * fetching an `<img src>` as soon as the element exists, so removing it afterwards is too late.
 */
export function offlineSanitizer(inner: IRenderMime.ISanitizer): IRenderMime.ISanitizer {
  return {
    getAutolink: () => inner.getAutolink?.() ?? true,
    allowNamedProperties: inner.allowNamedProperties,
    sanitize: (dirty, options) => dropRemoteResources(inner.sanitize(dirty, options))
  };
}

const MEDIA = 'video, audio, source, track, picture, style, link, input[type="image" i]';
const REMOTE_CSS = /url\s*\(|image-set\s*\(|@import/i;

// Anything the pass below could change: one of its elements (`<image>` is parsed as an `<img>`) or
// attributes, anywhere in the text; a word such as "background" in a sentence only costs the full pass.
const MAYBE_REMOTE =
  /<(?:img|image|video|audio|source|track|picture|style|link|input)\b|(?:srcset|poster|background|style)\s*=/i;

/** The HTML without remote images (shown as `[image: alt]`), media elements, srcsets or CSS URLs. */
export function dropRemoteResources(html: string): string {
  if (!MAYBE_REMOTE.test(html)) {
    return html; // nothing to drop: no second parse and serialization of a long report
  }
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  doc.body.querySelectorAll(MEDIA).forEach(el => el.remove());
  doc.body.querySelectorAll('img').forEach(img => {
    const src = img.getAttribute('src') ?? '';
    if (classifyUrl(src) === 'relative' || (isKeptUrl(src, true) && src.toLowerCase().startsWith('data:'))) {
      return; // a file next to the notebook, or inline data: nothing leaves the machine
    }
    const note = doc.createElement('span');
    note.className = 'deepsearch-image-removed';
    note.textContent = `[image: ${img.getAttribute('alt') || 'not loaded'}]`;
    note.title = `Remote image not loaded: ${src}`;
    img.replaceWith(note);
  });
  for (const el of Array.from(doc.body.querySelectorAll('*'))) {
    for (const name of ['srcset', 'poster', 'background']) {
      el.removeAttribute(name);
    }
    if (REMOTE_CSS.test(el.getAttribute('style') ?? '')) {
      el.removeAttribute('style');
    }
  }
  return doc.body.innerHTML;
}

/** Remove a leading `# Title` that repeats the heading already shown above the report. */
export function dropRepeatedTitle(host: HTMLElement, title: string): void {
  const first = host.firstElementChild;
  if (first?.localName !== 'h1') {
    return;
  }
  const copy = first.cloneNode(true) as Element;
  copy.querySelectorAll('.jp-InternalAnchorLink').forEach(anchor => anchor.remove());
  if (copy.textContent?.trim() === title.trim()) {
    first.remove();
  }
}

/**
 * Nest the report's headings under its title (an `<h2>` in the header): `# 1. Costs` becomes an
 * `<h3>`, `##` an `<h4>`, and so on down to `<h6>`; the outline of the page then reads as it should.
 */
export function nestHeadings(host: HTMLElement, titleLevel = 2): void {
  for (const heading of Array.from(host.querySelectorAll('h1, h2, h3, h4, h5, h6'))) {
    const level = Math.min(6, Number(heading.localName[1]) + titleLevel);
    const nested = host.ownerDocument.createElement(`h${level}`);
    for (const attr of Array.from(heading.attributes)) {
      nested.setAttribute(attr.name, attr.value);
    }
    nested.append(...Array.from(heading.childNodes));
    heading.replaceWith(nested);
  }
}

const CITATION = /\[citation:\s*(\d+)\s*\]/g;
const NO_CITATIONS_INSIDE = 'a, code, pre, kbd, samp, script, style, textarea, svg, math';

/** Where a citation points: the element id of a source and a short label for it. */
export interface ICitationTarget {
  id: string;
  label: string;
}

/**
 * Replace each `[citation:N]` in the rendered text with a link to source N. Text inside links and
 * code is left alone; a citation of a source that is not listed stays as marked-up text.
 */
export function linkCitations(
  host: HTMLElement,
  targets: ReadonlyMap<number, ICitationTarget>,
  evidence: CitationEvidence | null = null
): void {
  const doc = host.ownerDocument;
  const walker = doc.createTreeWalker(host, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node as Text;
    if (text.data.includes('[citation:') && !text.parentElement?.closest(NO_CITATIONS_INSIDE)) {
      texts.push(text);
    }
  }
  for (const text of texts) {
    const parts: Node[] = [];
    let last = 0;
    for (const match of text.data.matchAll(CITATION)) {
      const start = match.index ?? 0;
      parts.push(doc.createTextNode(text.data.slice(last, start)));
      const index = Number(match[1]);
      parts.push(citationNode(doc, index, targets, evidence?.next(index) ?? null));
      last = start + match[0].length;
    }
    if (last > 0) {
      parts.push(doc.createTextNode(text.data.slice(last)));
      text.replaceWith(...parts);
    }
  }
}

function citationNode(
  doc: Document,
  index: number,
  targets: ReadonlyMap<number, ICitationTarget>,
  cite: ICite | null
): Node {
  const sup = doc.createElement('sup');
  const target = targets.get(index);
  const label = `[${index}${citationMark(cite?.status ?? '')}]`;
  if (target) {
    const link = doc.createElement('a');
    link.className = 'deepsearch-citation';
    link.href = `#${target.id}`;
    link.textContent = label;
    link.setAttribute('aria-label', `Source ${index}: ${target.label}`);
    sup.appendChild(link);
    if (cite) {
      sup.classList.add('deepsearch-cite', `deepsearch-cite-${cite.status || 'unchecked'}`);
      const popup = evidencePopup(doc, cite);
      link.setAttribute('aria-describedby', popup.id);
      sup.appendChild(popup);
    } else {
      link.title = target.label;
    }
  } else {
    sup.className = 'deepsearch-citation-missing';
    sup.textContent = label;
    sup.title = `Source ${index} is not in the sources list`;
  }
  return sup;
}

const URL_ATTRIBUTES = ['href', 'src', 'xlink:href', 'action', 'formaction', 'poster', 'background'];
// Script in CSS: old browsers ran these; no current one does, but there is no reason to keep them.
const ACTIVE_CSS = /(java|vb|live)script\s*:|expression\s*\(|-moz-binding|behavior\s*:/i;

/**
 * Defence in depth behind the sanitizer: drop event-handler attributes, URL attributes with a
 * script-capable scheme, styles that name a script, script-like elements, and JupyterLab command
 * links (report text must not be able to run an application command when clicked).
 */
export function scrubActiveContent(host: HTMLElement): void {
  host.querySelectorAll('script, iframe, object, embed, base, meta, form').forEach(el => el.remove());
  for (const el of Array.from(host.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name.startsWith('data-commandlinker')) {
        el.removeAttribute(attr.name);
      } else if (URL_ATTRIBUTES.includes(name) && !isKeptUrl(attr.value, el.localName === 'img')) {
        el.removeAttribute(attr.name);
      } else if (name === 'style' && ACTIVE_CSS.test(attr.value)) {
        el.removeAttribute(attr.name);
      }
    }
  }
}
