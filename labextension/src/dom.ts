/**
 * A tiny element builder. Text only ever goes in through `textContent`, so data from a report can
 * never become markup here.
 */

/** Children an element can be given: nodes, text, or nothing (skipped). */
export type Child = Node | string | null | undefined | false;

/** Create an element with a class name, attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) {
    el.className = props.className;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child instanceof Node) {
      el.appendChild(child);
    } else if (typeof child === 'string') {
      el.appendChild(document.createTextNode(child));
    }
  }
  return el;
}

/** A collapsible part: `<details>` with a summary, marked with `data-part` so its state survives re-renders. */
export function part(name: string, summary: string, open: boolean, ...children: Child[]): HTMLDetailsElement {
  const details = h(
    'details',
    { className: `deepsearch-part deepsearch-part-${name}`, attrs: { 'data-part': name } },
    h('summary', { className: 'deepsearch-part-summary' }, summary),
    ...children
  );
  details.open = open;
  return details;
}
