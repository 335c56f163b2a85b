/**
 * jsdom lacks a few browser APIs that JupyterLab modules touch when they load.
 */

if (typeof globalThis.DragEvent === 'undefined') {
  // @lumino/dragdrop subclasses DragEvent at import time; a MouseEvent stand-in is enough here.
  (globalThis as Record<string, unknown>).DragEvent = class DragEvent extends MouseEvent {};
}

if (typeof window.matchMedia !== 'function') {
  // @jupyter/web-components (pulled in through @jupyterlab/apputils) reads media queries at import.
  window.matchMedia = (query: string): MediaQueryList =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false
    }) as MediaQueryList;
}

if (typeof globalThis.CSS === 'undefined' || typeof globalThis.CSS.escape !== 'function') {
  // JupyterLab's in-page anchor handler calls CSS.escape; escape all but safe identifier characters.
  const escape = (value: string): string => value.replace(/[^\w-]/g, ch => `\\${ch.codePointAt(0)!.toString(16)} `);
  (globalThis as Record<string, unknown>).CSS = { ...(globalThis.CSS ?? {}), escape };
}

if (!('clipboard' in navigator)) {
  // Present in every browser JupyterLab supports; without it @jupyterlab/apputils warns at import.
  Object.defineProperty(navigator, 'clipboard', {
    value: { writeText: () => Promise.resolve(), readText: () => Promise.resolve('') },
    configurable: true
  });
}
