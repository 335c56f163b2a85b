/**
 * JupyterLab MIME extension: renders the report outputs deepsearch_nb writes (of type `MIME_TYPE`,
 * defined once in ./widget).
 */

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { MIME_TYPE, ReportWidget } from './widget';

export { MIME_TYPE, ReportWidget } from './widget';

/** The factory JupyterLab uses to create report renderers; `safe` since content is always sanitized. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  createRenderer: options => new ReportWidget(options)
};

/** The extension: rank 0 puts it ahead of the HTML (50) and Markdown (60) fallbacks in the same bundle. */
const extension: IRenderMime.IExtension = {
  id: 'deepsearch-nb-labextension:report',
  description: 'Renders deepsearch_nb research reports.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
