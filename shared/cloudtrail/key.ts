/**
 * What an S3 key under a CloudTrail bucket is. CloudTrail writes:
 *
 *   [prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
 *   [prefix/]AWSLogs/<o-org-id>/<account>/CloudTrail/…                          (organization trails)
 *   [prefix/]AWSLogs/[<o-org-id>/]<account>/CloudTrail-Digest/<region>/…/…_CloudTrail-Digest_….json.gz
 *   [prefix/]AWSLogs/[<o-org-id>/]<account>/CloudTrail-Insight/<region>/…       (Insights events)
 *
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
 */
export type LogKey =
  | {
      kind: 'log';
      key: string;
      account: string;
      region: string;
      /** The organization id of an organization trail. */
      organizationId?: string;
      /** The delivery date from the path, YYYY-MM-DD. */
      date: string;
    }
  | { kind: 'digest' | 'insight' | 'other'; key: string; reason: string };

const LOG_KEY =
  /(?:^|\/)AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z0-9-]{1,40})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_CloudTrail_([a-z0-9-]{1,40})_(\d{8}T\d{4}Z)_([A-Za-z0-9]{1,64})\.json\.gz$/;

/** Classifies an S3 key (already URL-decoded). Only `kind: 'log'` is read; the rest is skipped with a reason. */
export function parseLogKey(key: string): LogKey {
  const m = LOG_KEY.exec(key);
  if (m) {
    const [, org, account, region, yyyy, mm, dd, fileAccount, fileRegion] = m;
    if (fileAccount !== account || fileRegion !== region) {
      return { kind: 'other', key, reason: 'file name does not match its AWSLogs/<account>/CloudTrail/<region>/ path' };
    }
    return {
      kind: 'log',
      key,
      account: account!,
      region: region!,
      ...(org ? { organizationId: org } : {}),
      date: `${yyyy}-${mm}-${dd}`,
    };
  }
  if (/\/CloudTrail-Digest\/|_CloudTrail-Digest_/.test(key)) {
    return { kind: 'digest', key, reason: 'CloudTrail digest file (integrity validation), not a log' };
  }
  if (/\/CloudTrail-Insight\/|_CloudTrail-Insight_/.test(key)) {
    return { kind: 'insight', key, reason: 'CloudTrail Insights file, not management/data events' };
  }
  return { kind: 'other', key, reason: 'not a CloudTrail log file key' };
}

/**
 * For local files and S3 prefixes scanned by the CLI, names are free-form: any `.json` / `.json.gz` is read, except
 * what is recognisably a digest or Insights file.
 */
export function scanCandidate(name: string): { read: true } | { read: false; reason: string } {
  if (!/\.json(\.gz)?$/i.test(name)) return { read: false, reason: 'not a .json or .json.gz file' };
  const parsed = parseLogKey(name);
  if (parsed.kind === 'digest' || parsed.kind === 'insight') return { read: false, reason: parsed.reason };
  return { read: true };
}

/**
 * S3 event notifications URL-encode the key the way HTML forms do (space as '+'). A key that is not valid
 * percent-encoding is returned as it was rather than throwing.
 */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
