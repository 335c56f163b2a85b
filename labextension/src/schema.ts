/**
 * The report document's types, generated from deepsearch_nb/schemas/report.v1.schema.json
 * by scripts/schema-types.mjs: do not edit. After changing the schema run `jlpm schema:types`;
 * `jlpm schema:check` (in `jlpm check` and `make check`) fails while this file is stale.
 */

/**
 * The persistent record of one research run, stored in a notebook output so that it renders without a kernel and can be reproduced. Secrets are removed before a document is built.
 */
export interface ReportDocumentV1 {
  /**
   * Readers refuse any other value with a readable message.
   */
  schema_version: 1;
  /**
   * Minor version: each adds optional fields only, so every v1 reader reads the document; absent means 0. 1: evidence, citation_check, usage.
   */
  schema_minor?: number;
  question: string;
  /**
   * Report title (from the outline); may be empty.
   */
  title?: string;
  status: 'RUNNING' | 'WAITING_USER_INPUT' | 'CANCELLED' | 'COMPLETED' | 'FAILED';
  /**
   * What went wrong, in words a user can act on (FAILED or CANCELLED runs).
   */
  error?: string | null;
  /**
   * The report as Markdown. Inline citations are written [citation:N]; N is a source's index. May be partial for CANCELLED or FAILED runs.
   */
  report_markdown: string;
  sources: ReportSourceV1[];
  /**
   * The agent's citation_messages, kept as they came (source tracing); often empty.
   */
  citations?: {
    [k: string]: unknown;
  };
  /**
   * Since 1.1: what each cited number stands for, keyed by N of [citation:N]: the source's title, where it is, and the passages, each looked up in the source when the report was checked.
   */
  evidence?: {
    [k: string]: {
      title: string;
      url: string;
      /**
       * local: a corpus file, read again for the check; web: only the content the agent handed over; missing: no such source.
       */
      kind: 'local' | 'web' | 'missing';
      /**
       * The corpus file (relative to the corpus folder) or the URL.
       */
      location?: string;
      path?: string;
      /**
       * Why the source could not be read when checked.
       */
      problem?: string;
      passages: {
        text: string;
        /**
         * The source held the passage when the report was checked.
         */
        found: boolean;
        /**
         * The file's line where the passage starts.
         */
        line?: number;
        /**
         * The heading the passage sits under.
         */
        section?: string;
        [k: string]: unknown;
      }[];
      [k: string]: unknown;
    };
  };
  /**
   * Since 1.1: each citation looked up and scored. markers are the report's [citation:N] in reading order (a marker with several numbers gives one entry each).
   */
  citation_check?: {
    /**
     * How support is scored (content-word recall of the citing sentence in the passage).
     */
    measure?: string;
    /**
     * Support below this is weak.
     */
    weak_below?: number;
    citations: number;
    uncited_sentences?: number;
    counts: {
      verified?: number;
      weak?: number;
      missing_source?: number;
      unverifiable?: number;
      [k: string]: unknown;
    };
    /**
     * The header line, e.g. "24 citations: 23 verified, 1 weak, 0 missing source".
     */
    summary: string;
    markers: {
      n: number;
      status: 'verified' | 'weak' | 'missing_source' | 'unverifiable';
      support?: number;
      /**
       * Index into evidence[n].passages.
       */
      passage?: number;
      [k: string]: unknown;
    }[];
    [k: string]: unknown;
  };
  /**
   * Since 1.1: LLM tokens as the endpoints reported them, per stage, and the run's budget.
   */
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    calls?: number;
    stages?: {
      stage: string;
      input_tokens: number;
      output_tokens: number;
      calls?: number;
      [k: string]: unknown;
    }[];
    budget?: {
      tokens?: number | null;
      seconds?: number | null;
      /**
       * What ran out (tokens or time), when the budget ended the run.
       */
      reached?: string | null;
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  /**
   * The human-in-the-loop exchanges of the run, in order.
   */
  hitl: HitlExchangeV1[];
  timings: TimingsV1;
  agent: AgentV1;
  /**
   * Warnings about how the run went: stalled, the agent abandoned after a cancel, an unclean end, recoverable agent errors. A COMPLETED report with notices is not a clean run.
   */
  notices?: {
    kind: string;
    message: string;
    [k: string]: unknown;
  }[];
  /**
   * The path of the run's transcript (JSON Lines: every chunk with its time, each question and answer), as written when the run was made; relative to the notebook's working directory unless absolute.
   */
  transcript?: string;
  /**
   * The report template that shaped the report (research(template=...)): its name, the sha256 of its Markdown, where it came from, and the Markdown itself, so reproduce() runs with the same one.
   */
  template?: {
    name: string;
    sha256: string;
    source?: string;
    markdown: string;
    [k: string]: unknown;
  };
  /**
   * Who and what made the report, derived from the rest of the document: agent, model and LLM endpoint, corpus fingerprint, the answers given and by whom, date, duration, transcript.
   */
  provenance?: {
    agent?: string;
    model?: string | null;
    llm_endpoint?: string | null;
    corpus?: {
      path?: string;
      sha256?: string | null;
      documents?: number;
      [k: string]: unknown;
    } | null;
    answers?: {
      stage?: string;
      feedback?: string;
      by?: string;
      [k: string]: unknown;
    }[];
    date?: string;
    duration_s?: number;
    transcript?: string | null;
    [k: string]: unknown;
  };
  conversation_id?: string;
  package_version: string;
  [k: string]: unknown;
}
export interface ReportSourceV1 {
  index: number;
  title: string;
  url: string;
  query?: string;
  /**
   * The sentences of this source the report quotes, shown when the source is opened.
   */
  passages?: string[];
  /**
   * The source's text (bounded), so it can be read in place wherever the file lives.
   */
  document?: string;
  /**
   * The absolute path it was read from; linked only when under the Jupyter server's root.
   */
  file?: string;
  [k: string]: unknown;
}
export interface HitlExchangeV1 {
  stage: 'clarification' | 'outline_review' | 'report_feedback' | 'step';
  prompt: string;
  /**
   * A step pause of step mode: the stage boundary (kind, section, sections) and what it showed; its answer's message is the action as JSON (continue, run_to_end, edit_plan, drop_sources, rewrite).
   */
  step?: {
    kind: 'questions' | 'outline' | 'plan' | 'sources' | 'section' | 'report';
    section?: number;
    sections?: number;
    [k: string]: unknown;
  };
  questions?: string;
  outline?: {
    [k: string]: unknown;
  } | null;
  feedback: '' | 'accepted' | 'revise_comment' | 'revise_outline' | 'cancel';
  message: string;
  /**
   * Who gave the answer.
   */
  by?: 'person' | 'scripted' | 'timeout' | 'replay';
  [k: string]: unknown;
}
export interface TimingsV1 {
  /**
   * ISO 8601, UTC
   */
  started_at: string;
  ended_at?: string | null;
  elapsed_s: number;
  [k: string]: unknown;
}
export interface AgentV1 {
  /**
   * local, openjiuwen-sdk, remote, replay, fake, ...
   */
  kind: string;
  /**
   * agent_config with every secret replaced by "***".
   */
  config: {
    [k: string]: unknown;
  };
  /**
   * The agent's own spec (its kind and whole config, secrets as "***"), so reproduce() can rebuild it; absent for agents that cannot describe themselves.
   */
  spec?: {
    kind: string;
    config: {
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
