/**
 * The renderer's view of a report against the types generated from the JSON schema (`../schema`,
 * kept up to date by `jlpm schema:check`). These checks run when the tests are type-checked
 * (`jlpm typecheck`): a field added to or dropped from either side, or a schema type the reader's
 * type cannot hold, fails to compile. The reader fills in optional fields, so its types may be wider.
 */

import { describe, expectTypeOf, it } from 'vitest';

import type { IHitlExchange, IReport, ISource, ITimings } from '../report';
import { SCHEMA_VERSION } from '../report';
import type { AgentV1, HitlExchangeV1, ReportDocumentV1, ReportSourceV1, TimingsV1 } from '../schema';

/** The named keys of T, without the index signature of an object the schema leaves open. */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };

/** A document as the reader returns it: every optional field present, at every level. */
type Filled<T> = T extends readonly (infer U)[]
  ? Filled<U>[]
  : T extends object
    ? [KnownKeys<T>] extends [never]
      ? T // an object the schema leaves free-form
      : { [K in KnownKeys<T>]-?: Filled<Exclude<T[K], undefined>> }
    : T;

/** The fields of a filled-in document whose schema type does not fit the view's field of that name. */
type Misfits<Doc, View> = {
  [K in KnownKeys<Filled<Doc>> & keyof View]: Filled<Doc>[K] extends View[K] ? never : K;
}[KnownKeys<Filled<Doc>> & keyof View];

/**
 * The schema's fields the renderer leaves unread, at each level (`never`: none). A field added to the
 * schema fails the first check below until the reader reads it (a field of the view type in
 * ../report.ts) or it is named here.
 */
interface IUnread {
  report: 'notices' | 'schema_minor' | 'usage' | 'template'; // notices: how the run went (stalls, unclean ends), not shown by the Python renderers either; template: for reproduce()
  source: never;
  hitl: 'by' | 'step'; // who answered (person, scripted, timeout, replay), the step pause's details: for reproduce(), not shown
  timings: never;
  agent: 'spec'; // what reproduce() rebuilds the agent from, not shown
}

/** Schema fields the view neither reads nor names as unread (a failing check names them). */
type Unaccounted<Doc, View, Unread> = Exclude<KnownKeys<Doc>, keyof View | Unread>;

/** View fields the schema does not have. */
type Unknown<View, Doc> = Exclude<keyof View, KnownKeys<Doc>>;

/** Names listed as unread that are not schema fields the view leaves unread. */
type WronglyUnread<Unread, Doc, View> = Exclude<Unread, Exclude<KnownKeys<Doc>, keyof View>>;

describe('the view types and the schema', () => {
  it('account for every field the schema has, at every level', () => {
    expectTypeOf<Unaccounted<ReportDocumentV1, IReport, IUnread['report']>>().toBeNever();
    expectTypeOf<Unaccounted<ReportSourceV1, ISource, IUnread['source']>>().toBeNever();
    expectTypeOf<Unaccounted<HitlExchangeV1, IHitlExchange, IUnread['hitl']>>().toBeNever();
    expectTypeOf<Unaccounted<TimingsV1, ITimings, IUnread['timings']>>().toBeNever();
    expectTypeOf<Unaccounted<AgentV1, IReport['agent'], IUnread['agent']>>().toBeNever();
  });

  it('have no field the schema lacks', () => {
    expectTypeOf<Unknown<IReport, ReportDocumentV1>>().toBeNever();
    expectTypeOf<Unknown<ISource, ReportSourceV1>>().toBeNever();
    expectTypeOf<Unknown<IHitlExchange, HitlExchangeV1>>().toBeNever();
    expectTypeOf<Unknown<ITimings, TimingsV1>>().toBeNever();
    expectTypeOf<Unknown<IReport['agent'], AgentV1>>().toBeNever();
  });

  it('list as unread only schema fields the reader does not read', () => {
    expectTypeOf<WronglyUnread<IUnread['report'], ReportDocumentV1, IReport>>().toBeNever();
    expectTypeOf<WronglyUnread<IUnread['source'], ReportSourceV1, ISource>>().toBeNever();
    expectTypeOf<WronglyUnread<IUnread['hitl'], HitlExchangeV1, IHitlExchange>>().toBeNever();
    expectTypeOf<WronglyUnread<IUnread['timings'], TimingsV1, ITimings>>().toBeNever();
    expectTypeOf<WronglyUnread<IUnread['agent'], AgentV1, IReport['agent']>>().toBeNever();
  });

  it('hold every value the schema allows (the free-form outline is reduced by the reader)', () => {
    expectTypeOf<Misfits<ReportDocumentV1, IReport>>().toEqualTypeOf<'hitl'>();
    expectTypeOf<Misfits<HitlExchangeV1, IHitlExchange>>().toEqualTypeOf<'outline'>();
    expectTypeOf<Misfits<ReportSourceV1, ISource>>().toBeNever();
    expectTypeOf<Misfits<TimingsV1, ITimings>>().toBeNever();
    expectTypeOf<Misfits<AgentV1, IReport['agent']>>().toBeNever();
  });

  it('agree on the schema version', () => {
    expectTypeOf(SCHEMA_VERSION).toEqualTypeOf<ReportDocumentV1['schema_version']>();
  });
});
