/**
 * Which URLs may become links. Only web addresses and paths relative to the notebook do; any other
 * scheme (`javascript:`, `data:`, `vbscript:`, `file:` ...) is shown as text.
 */

/** How a URL from report data may be used. */
export type UrlKind = 'web' | 'relative' | 'unsafe';

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
// Browsers drop ASCII tabs and newlines anywhere in a URL and trim C0 controls and spaces at both
// ends before they look at the scheme, so "java\tscript:" is still javascript:. Do the same first.
const IGNORED_ANYWHERE = /[\t\n\r]/g;
// eslint-disable-next-line no-control-regex -- matching C0 control characters is the point
const IGNORED_AT_ENDS = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;

/** Classify a URL the way a browser would read it in an `href`. */
export function classifyUrl(raw: string): UrlKind {
  const url = raw.replace(IGNORED_ANYWHERE, '').replace(IGNORED_AT_ENDS, '');
  if (!url) {
    return 'unsafe';
  }
  if (SCHEME.test(url)) {
    return /^https?:/i.test(url) ? 'web' : 'unsafe';
  }
  // "//host/path" and "\\host\path" are network paths: they inherit the page's http(s) scheme.
  if (/^[/\\]{2}/.test(url)) {
    return 'web';
  }
  return 'relative';
}

/** Schemes a rendered link or resource may keep (besides relative URLs). */
const KEPT_SCHEMES = /^(https?|mailto|tel|ftp):/i;

/** Whether a URL attribute of rendered Markdown (after JupyterLab resolved it) may stay. */
export function isKeptUrl(raw: string, allowDataImage: boolean): boolean {
  const url = raw.replace(IGNORED_ANYWHERE, '').replace(IGNORED_AT_ENDS, '');
  if (!SCHEME.test(url) || KEPT_SCHEMES.test(url)) {
    return true;
  }
  return allowDataImage && /^data:image\/(png|gif|jpe?g|webp|avif|bmp);/i.test(url);
}
