import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import type { RuleContext } from './engine/context';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, asArray, attempt, isObject, param } from './lib/record';

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';
const INSIGHT_TYPES = ['ApiCallRateInsight', 'ApiErrorRateInsight'] as const;

const Options = z.strictObject({
  requiredInsightTypes: z
    .array(z.enum(INSIGHT_TYPES))
    .max(2)
    .default([])
    .describe('Insight types every trail must keep; a PutInsightSelectors without one of them is reported (one level lower).'),
  allowAwsServices: allowAwsServicesOption([]),
});
type Options = z.infer<typeof Options>;

const selectedTypes = (record: CloudTrailRecord): string[] =>
  asArray(record.requestParameters?.insightSelectors)
    .filter(isObject)
    .map((s) => String(s.insightType));

function reduction(record: CloudTrailRecord, ctx: RuleContext<Options>): { off: boolean; missing: string[] } {
  const types = selectedTypes(record);
  return { off: types.length === 0, missing: ctx.options.requiredInsightTypes.filter((t) => !types.includes(t)) };
}

const trailOf = (record: CloudTrailRecord): string => {
  const raw = param(record, 'trailName') ?? param(record, 'eventDataStore') ?? 'unknown trail';
  return raw.includes(':trail/') ? raw.slice(raw.indexOf(':trail/') + 7) : raw;
};

const putInsights = (selectors: { insightType: string }[], extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: CLOUDTRAIL, eventName: 'PutInsightSelectors', requestParameters: { trailName: 'org-trail', insightSelectors: selectors }, ...extra });

export default defineRule({
  id: 'cloudtrail-insights-reduced',
  title: 'CloudTrail Insights switched off or reduced',
  description:
    'CloudTrail Insights raises events when API call or error rates depart from the baseline — the signal of a ' +
    'burst of enumeration or of a runaway script. PutInsightSelectors with an empty list switches Insights off ' +
    '(medium); leaving out an insight type listed in `requiredInsightTypes` is low. (StopLogging, DeleteTrail, ' +
    'UpdateTrail and PutEventSelectors are covered by cloudtrail-tampering.)',
  severity: 'medium',
  categories: ['cloudtrail-tamper'],
  references: [
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-insights-events-with-cloudtrail.html',
    'https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutInsightSelectors.html',
  ],
  falsePositives: ['Cost reduction: Insights is billed per event analysed (agree on it and allow-list the change).'],
  runbook: '1. Check the trail’s insight selectors (`aws cloudtrail get-insight-selectors --trail-name <trail>`) and restore them if unplanned. 2. Ask the caller.',
  events: [{ source: CLOUDTRAIL, names: ['PutInsightSelectors'] }],
  options: Options,

  match(record, ctx) {
    const r = reduction(record, ctx);
    return (r.off || r.missing.length > 0) && notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, reduction(record, ctx).off ? 0 : -1);
  },

  alertTitle(record, ctx) {
    const r = reduction(record, ctx);
    const what = r.off ? 'Insights switched off' : `Insights without ${r.missing.join(', ')}`;
    return attempt(ctx, `CloudTrail trail ${trailOf(record)}: ${what}, by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and trail (the same key shape as cloudtrail-tampering).
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${trailOf(record)}`;
  },

  alertContext(record) {
    return { trail: trailOf(record), insightTypes: selectedTypes(record) };
  },

  examples: {
    match: [
      {
        name: 'Insights switched off (empty selector list)',
        record: putInsights([]),
        expect: { severity: 'medium', title: 'CloudTrail trail org-trail: Insights switched off', dedupKey: 'arn:aws:iam::111122223333:user/alice|org-trail' },
      },
      {
        name: 'error-rate insights dropped where both are required',
        config: { rules: { 'cloudtrail-insights-reduced': { options: { requiredInsightTypes: ['ApiCallRateInsight', 'ApiErrorRateInsight'] } } } },
        record: putInsights([{ insightType: 'ApiCallRateInsight' }]),
        expect: { severity: 'low', title: 'Insights without ApiErrorRateInsight' },
      },
      {
        name: 'a denied attempt to switch Insights off',
        record: putInsights([], { errorCode: 'AccessDenied', errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:PutInsightSelectors' }),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'Insights switched on for both types',
        record: putInsights([{ insightType: 'ApiCallRateInsight' }, { insightType: 'ApiErrorRateInsight' }]),
      },
      {
        name: 'one type kept when no type is required',
        record: putInsights([{ insightType: 'ApiCallRateInsight' }]),
      },
      {
        name: 'CloudFormation switching Insights off, allow-listed',
        config: { rules: { 'cloudtrail-insights-reduced': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: putInsights([], {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
