/**
 * What each `[citation:N]` stands for, from the report's `evidence` and `citation_check` (schema
 * 1.1): the passage, the source's title and where it is, and the check's verdict. The link of a
 * citation gets a popup with that evidence, shown on hover and on keyboard focus (CSS only), and
 * described to screen readers (`aria-describedby`). Every value is set as text, never as markup,
 * so a hostile passage stays inert.
 */

/** One citation as the reader is shown it. */
export interface ICite {
  status: string; // verified, weak, missing_source, unverifiable; '' when the report was not checked
  passage: string;
  title: string;
  location: string;
}

const STATUS_WORDS: Record<string, string> = {
  verified: 'Verified: the passage is in its source and supports the sentence.',
  weak: 'Weak: the passage does not support the sentence.',
  missing_source: 'Missing source: the passage is not in its source now.',
  unverifiable: "Unverifiable: the source's content was not available to check."
};

/** What follows N in the text: `?` for a weak citation, `!` for one whose source fails. */
export function citationMark(status: string): string {
  return status === 'weak' ? '?' : status === 'missing_source' ? '!' : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean).join(' ') : '';
}

/**
 * Hands out each marker's evidence in reading order: the k-th `[citation:N]` of number N is the k-th
 * check entry with that N, so a marker the renderer skips (inside code) cannot shift every later one.
 */
export class CitationEvidence {
  private readonly _seen = new Map<number, number>();
  private readonly _byNumber = new Map<number, Record<string, unknown>[]>();

  constructor(
    private readonly _evidence: Record<string, unknown>,
    check: Record<string, unknown> | null
  ) {
    const markers = check && Array.isArray(check['markers']) ? check['markers'] : [];
    for (const marker of markers.filter(isObject)) {
      const n = marker['n'];
      if (typeof n === 'number') {
        this._byNumber.set(n, [...(this._byNumber.get(n) ?? []), marker]);
      }
    }
  }

  /** The evidence of the next marker of number `n`, or null when the report carries none. */
  next(n: number): ICite | null {
    const k = this._seen.get(n) ?? 0;
    this._seen.set(n, k + 1);
    const found = this._evidence[String(n)];
    const evidence = isObject(found) ? found : {};
    const marker = this._byNumber.get(n)?.[k] ?? {};
    if (!isObject(found) && !Object.keys(marker).length) {
      return null;
    }
    const passages = Array.isArray(evidence['passages']) ? evidence['passages'].filter(isObject) : [];
    const index = marker['passage'];
    let chosen: Record<string, unknown> = typeof index === 'number' && passages[index] ? passages[index] : {};
    if (!Object.keys(chosen).length && passages.length && !Object.keys(marker).length) {
      chosen = passages[0];
    }
    const title = text(evidence['title']);
    let location = text(evidence['location']) || text(evidence['url']);
    if (typeof chosen['line'] === 'number') {
      location += `, line ${chosen['line']}`;
    }
    const section = text(chosen['section']);
    if (section && section !== title) {
      location += ` (${section})`;
    }
    return { status: text(marker['status']), passage: text(chosen['text']), title, location };
  }
}

let popupCount = 0;

/** The popup of one citation: the passage quoted, then the source and where, then the verdict. */
export function evidencePopup(doc: Document, cite: ICite): HTMLElement {
  const popup = doc.createElement('span');
  popup.className = 'deepsearch-evidence';
  popup.setAttribute('role', 'tooltip');
  popup.id = `deepsearch-evidence-${++popupCount}`;
  const quote = doc.createElement('q');
  quote.className = 'deepsearch-evidence-passage';
  quote.textContent = cite.passage || 'The report does not say which passage this citation stands for.';
  const where = doc.createElement('span');
  where.className = 'deepsearch-evidence-source';
  where.textContent = [cite.title, cite.location].filter(Boolean).join(' \u2014 ');
  popup.append(quote, where);
  if (STATUS_WORDS[cite.status]) {
    const verdict = doc.createElement('span');
    verdict.className = `deepsearch-evidence-status deepsearch-evidence-${cite.status}`;
    verdict.textContent = STATUS_WORDS[cite.status];
    popup.appendChild(verdict);
  }
  return popup;
}
