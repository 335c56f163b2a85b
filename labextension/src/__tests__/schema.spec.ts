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

describe('the view types and the schema', () => {
  it('name the same fields, at every level', () => {
    expectTypeOf<keyof IReport>().toEqualTypeOf<KnownKeys<ReportDocumentV1>>();
    expectTypeOf<keyof ISource>().toEqualTypeOf<KnownKeys<ReportSourceV1>>();
    expectTypeOf<keyof IHitlExchange>().toEqualTypeOf<KnownKeys<HitlExchangeV1>>();
    expectTypeOf<keyof ITimings>().toEqualTypeOf<KnownKeys<TimingsV1>>();
    expectTypeOf<keyof IReport['agent']>().toEqualTypeOf<KnownKeys<AgentV1>>();
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
