/**
 * A long report's body in sections the browser lays out only when they come near the screen.
 *
 * A 1 MB report is hundreds of paragraphs, lists and tables; laying all of them out and painting them
 * before the first screen shows took most of its render time. Each top-level heading of the body starts a
 * `<section>`, and the stylesheet gives sections `content-visibility: auto`: an off-screen section keeps
 * an estimated height (then the height it last had) and is skipped until it is scrolled to, while its
 * text stays in the DOM for find-in-page, the notebook's search, links to its anchors and screen readers.
 * Once the report is on the page, each section is laid out once in idle time, so that off screen it
 * keeps its own height rather than the estimate (nothing jumps when scrolling up, a jump from
 * JupyterLab's table of contents lands right); a link followed inside the report first lays out what is
 * left, then scrolls, and scrolls again while the sections around the target settle.
 */

/** The class of a body section (styled in base.css). */
export const SECTION_CLASS = 'deepsearch-section';

/** The class of a section laid out for being measured (styled in base.css: not skipped). */
export const MEASURED_CLASS = 'deepsearch-section-measured';

/** How long one idle step may lay sections out (ms): short enough never to be a long task. */
const MEASURE_BUDGET_MS = 8;

const HEADING = /^h[1-6]$/;

/**
 * Group the direct children of `host` into sections, one per heading of the highest level among them
 * (what comes before the first such heading is a section of its own). A body without headings becomes
 * one section; the order and the nodes themselves are unchanged.
 */
export function sectionize(host: HTMLElement): void {
  const children = Array.from(host.childNodes);
  const levels = children.filter(isHeading).map(h => Number(h.localName[1]));
  const top = levels.length ? Math.min(...levels) : 0;
  const doc = host.ownerDocument;
  const sections: HTMLElement[] = [];
  let current: HTMLElement | null = null;
  for (const child of children) {
    const starts = isHeading(child) && Number(child.localName[1]) === top;
    if (!current || starts) {
      if (!starts && isBlank(child)) {
        continue; // whitespace between blocks: nothing to keep a section for
      }
      current = doc.createElement('section');
      current.className = SECTION_CLASS;
      sections.push(current);
    }
    current.appendChild(child);
  }
  host.replaceChildren(...sections);
}

function isHeading(node: Node): node is HTMLElement {
  return node.nodeType === Node.ELEMENT_NODE && HEADING.test((node as Element).localName);
}

function isBlank(node: Node): boolean {
  return node.nodeType === Node.TEXT_NODE && !(node.textContent ?? '').trim();
}

/** Animation frames in which a scroll to a target is checked and redone (a few tens of ms). */
const SETTLE_FRAMES = 4;

/**
 * Scroll `target` into view, and again in the next frames while it moves away from where the scroll put
 * it: the sections around it had their estimated height until the browser laid them out for being near
 * the screen, which moves what follows them (a link to chapter 20 would land a few screens off).
 */
export function scrollIntoViewSettled(target: HTMLElement, options: ScrollIntoViewOptions): void {
  if (!target.scrollIntoView) {
    return;
  }
  target.scrollIntoView(options);
  let aimed = target.getBoundingClientRect().top;
  const check = (left: number): void => {
    if (!target.isConnected) {
      return;
    }
    if (Math.abs(target.getBoundingClientRect().top - aimed) >= 1) {
      target.scrollIntoView(options);
      aimed = target.getBoundingClientRect().top;
    }
    if (left > 1) {
      requestAnimationFrame(() => check(left - 1));
    }
  };
  requestAnimationFrame(() => check(SETTLE_FRAMES));
}

/**
 * Lay every section of `host` out once, a few at a time in idle moments after the first paint, so that
 * each keeps its real height while it is off screen (`contain-intrinsic-size: auto` remembers the last
 * one): scrolling up into the report moves nothing, and a jump from JupyterLab's table of contents or
 * search lands where it aims. A section stays laid out through one frame, for the browser to record its
 * size. Stops when the sections leave the page (a newer render replaced them). `flush()` lays out the
 * sections not measured yet at once: a link followed inside the report must not land on estimates.
 */
export function measureSections(host: HTMLElement): { flush(): void } {
  const pending = Array.from(host.children).filter(
    (el): el is HTMLElement => el instanceof HTMLElement && el.classList.contains(SECTION_CLASS)
  );
  const step = (): void => {
    const started = performance.now();
    const batch: HTMLElement[] = [];
    while (pending.length && performance.now() - started < MEASURE_BUDGET_MS) {
      const section = pending.shift()!;
      if (!section.isConnected) {
        return;
      }
      section.classList.add(MEASURED_CLASS);
      void section.getBoundingClientRect(); // its layout, now, within this step's budget
      batch.push(section);
    }
    afterNextFrame(() => {
      batch.forEach(section => section.classList.remove(MEASURED_CLASS));
      if (pending.length) {
        whenIdle(step);
      }
    });
  };
  whenIdle(step);
  return {
    flush: () => {
      const rest = pending.splice(0).filter(section => section.isConnected);
      rest.forEach(section => section.classList.add(MEASURED_CLASS));
      if (rest.length) {
        void host.getBoundingClientRect();
        afterNextFrame(() => rest.forEach(section => section.classList.remove(MEASURED_CLASS)));
      }
    }
  };
}

function whenIdle(callback: () => void): void {
  if (typeof requestIdleCallback === 'function') {
    requestIdleCallback(callback, { timeout: 1000 });
  } else {
    setTimeout(callback, 0);
  }
}

function afterNextFrame(callback: () => void): void {
  requestAnimationFrame(() => setTimeout(callback, 0));
}
