/**
 * "Download .html": the report as the reader sees it, as one standalone page that works offline.
 *
 * The page is a copy of the rendered view (already sanitised by JupyterLab's renderer), cleaned once more
 * for a context without JupyterLab: no buttons, no script or embedded element, no event handler, no link
 * that is not http(s), mailto or to the page itself, every folded part open, one constant style block, and
 * a Content-Security-Policy of `default-src 'none'` so the browser loads nothing from any host.
 * Citations keep their links to the page's own sources list.
 */

const REMOVED =
  'button, script, style, link, meta, base, img, picture, video, audio, source, iframe, object, embed, frame, form, input, textarea, select, svg, math, template, .deepsearch-actions';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'";

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.55;max-width:46em;
margin:2em auto;padding:0 1em;color:#1f1f1f}
h1{font-size:1.6em}h2{font-size:1.3em}a{color:#1a5fb4}pre{background:#f3f3f3;padding:.5em;overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em}
.deepsearch-status{border:1px solid currentColor;border-radius:.8em;padding:0 .5em;font-size:.85em}
.deepsearch-meta{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}.deepsearch-meta dd{margin:0}
:target{background:#fff3c4}details{border-top:1px solid #ddd;padding:.4em 0}summary{font-weight:600}`;

/** Whether an `href` may stay: a link within the page, or to an http(s) or mailto address. */
function keptHref(href: string): boolean {
  // eslint-disable-next-line no-control-regex -- matching C0 control characters is the point
  const value = href.replace(/[\u0000-\u0020]/g, '').toLowerCase();
  return value.startsWith('#') || /^(https?:|mailto:)/.test(value);
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The standalone page of a rendered report view (see the module comment). */
export function standaloneHtml(view: HTMLElement, title: string): string {
  const copy = view.cloneNode(true) as HTMLElement;
  for (const element of Array.from(copy.querySelectorAll(REMOVED))) {
    element.remove();
  }
  for (const element of [copy, ...Array.from(copy.querySelectorAll('*'))]) {
    for (const attr of Array.from(element.attributes)) {
      const name = attr.name.toLowerCase();
      const dropped =
        name.startsWith('on') ||
        name === 'style' ||
        name === 'src' ||
        name === 'srcset' ||
        name === 'action' ||
        name === 'formaction' ||
        name.includes(':') ||
        (name === 'href' && !keptHref(attr.value));
      if (dropped) {
        element.removeAttribute(attr.name);
      }
    }
    if (element.localName === 'details') {
      element.setAttribute('open', '');
    }
    if (element.localName === 'a' && element.hasAttribute('href') && !element.getAttribute('href')!.startsWith('#')) {
      element.setAttribute('rel', 'noopener noreferrer');
    }
  }
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="referrer" content="no-referrer">` +
    `<title>${escapeText(title)}</title><style>${STYLE}</style></head>\n<body>\n${copy.outerHTML}\n</body></html>\n`
  );
}
