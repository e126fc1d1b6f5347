import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { formatZodIssues } from '../config/parse';
import { createDateToDate } from './schema';

/**
 * The message AWS publishes on `arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged`, a JSON string in the SNS
 * `Message` field. Real messages (2017, 2018, 2022) write `create-time` as `YYYY-MM-DD-hh-mm-ss`, like createDate;
 * the documentation shows ISO 8601 (`yyyy-mm-ddThh:mm:ss+00:00`). Both are accepted.
 */
export const AWS_IP_SPACE_TOPIC_ARN = 'arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged';

const CreateTime = z.string().transform((s, ctx) => {
  const date = /^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/.test(s)
    ? createDateToDate(s)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(s)
      ? new Date(s)
      : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected YYYY-MM-DD-hh-mm-ss or an ISO 8601 time' });
    return z.NEVER;
  }
  return date;
});

export const IpSpaceChangedMessage = z.object({
  'create-time': CreateTime,
  synctoken: z.string().regex(/^\d{1,15}$/, 'expected decimal epoch seconds'),
  md5: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'expected 32 hex digits')
    .transform((s) => s.toLowerCase()),
  url: z.string().min(1),
});
export type IpSpaceChangedMessage = z.infer<typeof IpSpaceChangedMessage>;

/** Parses the SNS `Message` string; a ValidationError names what is wrong. */
export function parseIpSpaceChangedMessage(text: string): IpSpaceChangedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ValidationError(`AmazonIpSpaceChanged message is not JSON: ${JSON.stringify(text.slice(0, 200))}`, { cause });
  }
  const parsed = IpSpaceChangedMessage.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(`invalid AmazonIpSpaceChanged message: ${formatZodIssues(parsed.error)}`);
  }
  return parsed.data;
}

const AWS_ORIGIN = 'https://ip-ranges.amazonaws.com';

/**
 * The only place vigil downloads ip-ranges from. A message naming any other URL is refused before anything is
 * fetched: the topic is public, the message is data, and following it blindly would let whoever can publish a
 * look-alike message make the function fetch (and store) arbitrary content. This check lives in the domain code,
 * not in the injected fetch, so tests that serve the file from a local server still exercise it.
 */
export function assertAwsIpRangesUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ValidationError(`refusing to download ip-ranges from ${JSON.stringify(url)}: not a URL`, { cause });
  }
  if (parsed.origin !== AWS_ORIGIN || parsed.username || parsed.password || !parsed.pathname.endsWith('.json')) {
    throw new ValidationError(
      `refusing to download ip-ranges from ${JSON.stringify(url)}: only ${AWS_ORIGIN}/….json is allowed`,
    );
  }
  return parsed.href;
}
