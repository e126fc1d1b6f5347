import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { type Alert, Severity, atLeast, severityRank } from '../alerts/schema';
import { type S3Like, createS3Client, parseS3Uri } from '../aws/s3';
import { parseLogKey, scanCandidate } from '../cloudtrail/key';
import { type LogScan, scanLog } from '../cloudtrail/scan-log';
import { loadConfigFile } from '../config/load';
import { VigilConfig } from '../config/schema';
import type { Logger } from '../core/deps';
import { ValidationError, describeError } from '../core/errors';
import { cliLogger } from '../core/logger';
import { parseIpRangesBytes } from '../ip-ranges/load';
import { type IpIndex, buildIpIndex } from '../ip-ranges/lookup';
import { cacheDir, loadSource } from '../ip-ranges/source';
import { type Engine, createEngine, inactiveByRule } from '../rules/engine/engine';
import { rules } from '../rules/registry';
import { type CliIo, type CommandModule, ExitCode } from './io';

/**
 * `vigil scan`: the CloudTrail Lambda's reader, engine and configuration, run over local files and S3 prefixes.
 * Results (alerts) on stdout; progress, notes and the summary on stderr.
 */

type Format = 'table' | 'json' | 'ndjson';

interface ScanOptions {
  config?: string;
  ipRanges?: string | false;
  rules?: string;
  format?: Format;
  minSeverity?: Severity;
  exitZero?: boolean;
  progress: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** One log file to scan. */
type Target = { kind: 'file'; path: string; name: string } | { kind: 's3'; bucket: string; key: string; name: string };

// Paragraphs are single lines: commander wraps them to the terminal.
const DESCRIPTION = [
  'Scan CloudTrail log files with the detection rules, as the cloudtrailIngest Lambda does.',
  'INPUT is a file (.json or .json.gz, in the CloudTrail delivery format {"Records":[…]} or a bare JSON array of ' +
    'records), a directory (scanned recursively for .json/.json.gz; digest and Insights files are skipped), or ' +
    's3://bucket/prefix (every log object under the prefix; credentials and region from the usual AWS ' +
    'environment, AWS_ENDPOINT_URL_S3 for an emulator). Files are streamed: memory does not grow with their size.',
  'Matches of one rule with the same dedup key become one alert with a count, first/last seen and event ids; the ' +
    'same alert id in several files (one incident over several log files) is reported once, merged.',
  'Source IPs are looked up in the AWS IP ranges when a copy is available: --ip-ranges, or the copy cached by ' +
    '`vigil ip-ranges` (no download happens here). Without one, enrichment is off and the summary says so.',
  'Exit code: 0 no alerts (at or above --min-severity), 1 alerts found, 2 an input could not be read or bad ' +
    'options — the other inputs are still scanned and reported. --exit-zero turns 1 into 0.',
].join('\n\n');

const EXAMPLES = `
Examples:
  vigil scan --config examples/vigil.config.yaml events/cloudtrail/
  vigil scan s3://my-trail-bucket/AWSLogs/111122223333/CloudTrail/eu-central-1/2025/03/ --format ndjson > alerts.ndjson
  vigil scan --rules cloudtrail-tampering,root-account-usage --min-severity high logs/
  vigil scan --ip-ranges ip-ranges.json --format json 111122223333_CloudTrail_eu-central-1_20250312T1020Z_x.json.gz
  vigil scan --format ndjson logs/ | vigil notify --min-severity high`;

/** Every log file under the inputs, in a stable order; inputs that cannot be read are reported, not fatal. */
async function expandInputs(
  inputs: string[],
  io: CliIo,
  s3: () => S3Like,
  onError: (input: string, message: string) => void,
  onSkip: (name: string, reason: string) => void,
): Promise<Target[]> {
  const targets: Target[] = [];
  for (const input of inputs) {
    if (input.startsWith('s3://')) {
      let bucket: string;
      let prefix: string;
      try {
        ({ bucket, key: prefix } = parseS3Uri(input));
      } catch (err) {
        onError(input, describeError(err));
        continue;
      }
      try {
        let token: string | undefined;
        let found = 0;
        do {
          const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
          for (const object of page.Contents ?? []) {
            if (!object.Key || object.Key.endsWith('/')) continue;
            found++;
            const name = `s3://${bucket}/${object.Key}`;
            if (!/\.json(\.gz)?$/i.test(object.Key)) continue;
            const candidate = scanCandidate(object.Key);
            if (candidate.read) targets.push({ kind: 's3', bucket, key: object.Key, name });
            else onSkip(name, candidate.reason);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        if (found === 0) onError(input, 'no objects under this prefix');
      } catch (err) {
        onError(input, `cannot list: ${describeError(err)}`);
      }
      continue;
    }
    const full = path.resolve(io.cwd, input);
    let info;
    try {
      info = await stat(full);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      onError(input, code === 'ENOENT' ? 'no such file or directory' : describeError(err));
      continue;
    }
    if (info.isDirectory()) {
      const before = targets.length;
      await walk(full, input, targets, onSkip, onError);
      if (targets.length === before) onError(input, 'no .json or .json.gz files in this directory');
    } else {
      // A file named explicitly is read whatever its extension, unless it is recognisably not a log.
      const kind = parseLogKey(input).kind;
      if (kind === 'digest' || kind === 'insight') onSkip(input, kind === 'digest' ? 'CloudTrail digest file' : 'CloudTrail Insights file');
      else targets.push({ kind: 'file', path: full, name: input });
    }
  }
  return targets;
}

async function walk(
  dir: string,
  shown: string,
  out: Target[],
  onSkip: (name: string, reason: string) => void,
  onError: (input: string, message: string) => void,
): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    onError(shown, describeError(err));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const name = path.join(shown, entry.name);
    if (entry.isDirectory()) await walk(full, name, out, onSkip, onError);
    else if (entry.isFile()) {
      // Other files in a log folder (READMEs, manifests) are not logs and not worth a mention.
      if (!/\.json(\.gz)?$/i.test(entry.name)) continue;
      const candidate = scanCandidate(name);
      if (candidate.read) out.push({ kind: 'file', path: full, name });
      else onSkip(name, candidate.reason);
    }
  }
}

/** The same alert id from several files is one incident: counts add up, the first/last seen widen. */
export function mergeAlerts(alerts: Alert[]): Alert[] {
  const byId = new Map<string, Alert>();
  for (const alert of alerts) {
    const prev = byId.get(alert.id);
    if (!prev) {
      byId.set(alert.id, alert);
      continue;
    }
    const primary = severityRank[alert.severity] > severityRank[prev.severity] ? alert : prev;
    const ids = [...new Set([...(prev.eventIds ?? []), ...(alert.eventIds ?? [])])].slice(0, 100);
    const min = (a?: string, b?: string) => (a && b ? (Date.parse(a) <= Date.parse(b) ? a : b) : (a ?? b));
    const max = (a?: string, b?: string) => (a && b ? (Date.parse(a) >= Date.parse(b) ? a : b) : (a ?? b));
    const firstSeen = min(prev.firstSeen, alert.firstSeen);
    const lastSeen = max(prev.lastSeen, alert.lastSeen);
    byId.set(alert.id, {
      ...primary,
      count: prev.count + alert.count,
      eventIds: ids,
      ...(firstSeen ? { firstSeen } : {}),
      ...(lastSeen ? { lastSeen } : {}),
      context: { ...primary.context, files: Number(prev.context.files ?? 1) + 1 },
    });
  }
  return [...byId.values()];
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`);

const COLORS: Record<Severity, string> = { critical: '\u001b[1;31m', high: '\u001b[31m', medium: '\u001b[33m', low: '\u001b[36m', info: '\u001b[2m' };

/** A table for people: one line per alert, the title taking the room the terminal has. */
export function renderTable(alerts: Alert[], width: number, color: boolean): string {
  const rows = alerts.map((a) => [
    a.severity.toUpperCase(),
    (a.firstSeen ?? a.eventTime).replace('T', ' ').replace(/(\.\d+)?Z$/, ''),
    a.ruleId,
    a.account || '-',
    String(a.context.actorName ?? a.actor ?? '-'),
    String(a.count),
    a.title,
  ]);
  const header = ['SEVERITY', 'FIRST SEEN (UTC)', 'RULE', 'ACCOUNT', 'ACTOR', 'COUNT', 'TITLE'];
  const max = [8, 19, 28, 12, 32, 5];
  const widths = max.map((m, i) => Math.min(m, Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length))));
  const used = widths.reduce((a, b) => a + b + 2, 0);
  const titleWidth = Math.max(20, width - used);
  const line = (cells: string[], sev?: Severity) => {
    const fixed = cells.slice(0, 6).map((c, i) => pad(clip(c, widths[i]!), widths[i]!));
    const first = sev && color ? `${COLORS[sev]}${fixed[0]}\u001b[0m` : fixed[0];
    return `${[first, ...fixed.slice(1), clip(cells[6]!, titleWidth)].join('  ')}`.trimEnd();
  };
  return [line(header), ...rows.map((r, i) => line(r, alerts[i]!.severity))].join('\n') + '\n';
}

/** The ip-ranges copy `vigil ip-ranges` keeps in its cache, if any — never downloaded here. */
async function cachedIpRanges(io: CliIo, logger: Logger): Promise<IpIndex | undefined> {
  const dir = cacheDir(io.env);
  let bytes: Uint8Array;
  let md5: string | undefined;
  try {
    bytes = await readFile(path.join(dir, 'ip-ranges.json'));
  } catch {
    return undefined;
  }
  try {
    md5 = (JSON.parse(await readFile(path.join(dir, 'ip-ranges.meta.json'), 'utf8')) as { md5?: string }).md5 || undefined;
  } catch {
    md5 = undefined;
  }
  try {
    return buildIpIndex(parseIpRangesBytes(bytes, path.join(dir, 'ip-ranges.json'), { expectedMd5: md5 }).ranges);
  } catch (err) {
    logger.warn(`ignoring the cached ip-ranges in ${dir}: ${describeError(err)}`);
    return undefined;
  }
}

function ipRangesDeps(io: CliIo, logger: Logger, s3: () => S3Like) {
  return { fetch: io.fetch, clock: io.clock, logger, env: io.env, cwd: io.cwd, s3 };
}

function openTarget(target: Target, s3: () => S3Like): Promise<AsyncIterable<Uint8Array>> {
  if (target.kind === 'file') return Promise.resolve(createReadStream(target.path, { highWaterMark: 256 * 1024 }));
  return s3()
    .send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }))
    .then((out) => {
      if (!out.Body) throw new Error('empty response body');
      return out.Body as unknown as AsyncIterable<Uint8Array>;
    });
}

export const scanCommand: CommandModule = (program, io, setExit) => {
  program
    .command('scan')
    .summary('scan CloudTrail log files (local or S3) with the detection rules')
    .description(DESCRIPTION)
    .argument('<input...>', 'files, directories, s3://bucket/prefix')
    .option('--config <file>', 'vigil configuration (YAML/JSON); default: built-in defaults')
    .option('--ip-ranges <source>', 'ip-ranges.json for source-IP enrichment: a file, https:// URL or s3://bucket[/key] (default: the cached copy)')
    .option('--no-ip-ranges', 'no source-IP enrichment')
    .option('--rules <ids>', 'only these rules (comma-separated ids)')
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, ndjson otherwise)').choices(['table', 'json', 'ndjson']))
    .addOption(new Option('--min-severity <severity>', 'report only alerts at or above this severity').choices(Severity.options))
    .option('--exit-zero', 'exit 0 even when alerts are found (2 still means an input could not be read)')
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')
    .option('-q, --quiet', 'no notes or summary on stderr (errors are still reported)')
    .option('-v, --verbose', 'one line per file on stderr (records, skipped records, alerts)')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], o: ScanOptions, _cmd: Command) => {
      const started = performance.now();
      const logger = cliLogger(o.quiet ? 'error' : 'warn', io.stderr);
      // `vigil scan … | head`: a reader that went away is not an error; stop writing to it.
      let stdoutOpen = true;
      io.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
        stdoutOpen = false;
      });
      const out = (text: string) => {
        if (stdoutOpen) io.stdout.write(text);
      };
      const note = (message: string) => {
        if (!o.quiet) io.stderr.write(`vigil: ${message}\n`);
      };
      let s3Client: S3Like | undefined;
      const s3 = () => (s3Client ??= createS3Client(io.env));

      // Configuration and rules first: a bad --config or --rules is exit 2 before any file is read.
      const config = o.config ? await loadConfigFile(path.resolve(io.cwd, o.config)) : VigilConfig.parse({});
      const only = o.rules
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (o.rules !== undefined && (!only || only.length === 0)) throw new ValidationError('--rules: no rule ids given');

      let ipIndex: IpIndex | undefined;
      let enrichmentNote: string;
      if (o.ipRanges === false) {
        enrichmentNote = 'source-IP enrichment off (--no-ip-ranges)';
      } else if (typeof o.ipRanges === 'string') {
        const loaded = await loadSource(o.ipRanges, ipRangesDeps(io, logger, s3));
        ipIndex = buildIpIndex(loaded.ranges);
        enrichmentNote = `source IPs enriched with ip-ranges ${loaded.ranges.createDate} (${loaded.origin})`;
      } else {
        ipIndex = await cachedIpRanges(io, logger);
        enrichmentNote = ipIndex
          ? `source IPs enriched with the cached ip-ranges ${ipIndex.createDate} (${cacheDir(io.env)})`
          : 'source-IP enrichment off: no ip-ranges available (use --ip-ranges FILE, or cache a copy with `vigil ip-ranges --refresh`)';
      }

      const engine: Engine = createEngine({
        config: config.detection,
        rules,
        ...(only ? { only } : {}),
        ...(ipIndex ? { ipIndex } : {}),
        logger,
      });
      for (const { ruleId, reason, profiles } of inactiveByRule(engine.inactive)) {
        note(`rule ${ruleId} is inactive for ${profiles.length === 1 ? 'profile' : 'profiles'} ${profiles.join(', ')}: ${reason}`);
      }

      const failures: string[] = [];
      let failedFiles = 0;
      const skippedFiles: string[] = [];
      const targets = await expandInputs(
        inputs,
        io,
        s3,
        (input, message) => {
          failures.push(input);
          io.stderr.write(`vigil: error: ${input}: ${message}\n`);
        },
        (name, reason) => {
          skippedFiles.push(name);
          if (o.verbose) note(`skipped ${name}: ${reason}`);
        },
      );

      const showBar = o.progress && !o.quiet && io.stderr.isTTY === true && targets.length > 0;
      const bar = showBar
        ? new cliProgress.SingleBar(
            {
              stream: io.stderr as NodeJS.WriteStream,
              format: 'scanning {bar} {value}/{total} files | {records} records | {rate} records/s',
              hideCursor: true,
              clearOnComplete: true,
              fps: 10,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      let records = 0;
      const rate = () => Math.round(records / Math.max(0.001, (performance.now() - started) / 1000));
      bar?.start(targets.length, 0, { records: 0, rate: 0 });

      const alerts: Alert[] = [];
      const totals = { records: 0, skippedRecords: 0, ruleErrors: 0 };
      for (const [i, target] of targets.entries()) {
        let scan: LogScan;
        const before = records;
        try {
          const body = await openTarget(target, s3);
          const key = target.kind === 's3' ? target.key : target.name;
          const logKey = parseLogKey(key);
          scan = await scanLog(engine, body, {
            key,
            ...(target.kind === 's3' ? { bucket: target.bucket } : {}),
            ...(logKey.kind === 'log' ? { account: logKey.account } : {}),
            limits: config.detection.limits,
            logger,
            onProgress: (s) => {
              records = before + s.records;
              bar?.update(i, { records, rate: rate() });
            },
          });
        } catch (err) {
          failures.push(target.name);
          failedFiles++;
          bar?.stop();
          io.stderr.write(`vigil: error: ${target.name}: ${describeError(err)}\n`);
          continue;
        }
        records = before + scan.read.records;
        bar?.update(i + 1, { records, rate: rate() });
        totals.records += scan.read.records;
        totals.skippedRecords += scan.read.invalid + scan.read.nonObject;
        totals.ruleErrors += Object.values(scan.evaluation.ruleErrors).reduce((a, b) => a + b, 0);
        alerts.push(...scan.alerts);
        if (scan.error) {
          failures.push(target.name);
          failedFiles++;
          bar?.stop();
          io.stderr.write(`vigil: error: ${describeError(scan.error)}${scan.alerts.length ? ` (alerts from the records before the failure are reported)` : ''}\n`);
        }
        if (o.verbose) {
          const skipped = scan.read.invalid + scan.read.nonObject;
          note(`${target.name}: ${scan.read.records} records${skipped ? `, ${skipped} skipped` : ''}, ${scan.alerts.length} alerts`);
        }
      }
      bar?.stop();

      const minSeverity = o.minSeverity ?? 'info';
      const report = mergeAlerts(alerts)
        .filter((a) => atLeast(a.severity, minSeverity))
        .sort(
          (a, b) =>
            (a.firstSeen ?? a.eventTime).localeCompare(b.firstSeen ?? b.eventTime) ||
            severityRank[b.severity] - severityRank[a.severity] ||
            a.ruleId.localeCompare(b.ruleId),
        );

      const format: Format = o.format ?? (io.stdout.isTTY ? 'table' : 'ndjson');
      if (format === 'json') out(`${JSON.stringify(report, null, 2)}\n`);
      else if (format === 'ndjson') for (const a of report) out(`${JSON.stringify(a)}\n`);
      else if (report.length > 0) {
        const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
        out(renderTable(report, io.stdout.columns ?? 120, color));
      } else out('no alerts\n');

      const bySeverity = (['critical', 'high', 'medium', 'low', 'info'] as const)
        .map((s) => [s, report.filter((a) => a.severity === s).length] as const)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`);
      const seconds = (performance.now() - started) / 1000;
      note(enrichmentNote);
      note(
        `scanned ${targets.length - failedFiles}/${targets.length} file${targets.length === 1 ? '' : 's'}, ` +
          `${totals.records} records in ${seconds.toFixed(1)} s` +
          (totals.skippedRecords ? ` (${totals.skippedRecords} records skipped: not CloudTrail records)` : '') +
          (skippedFiles.length ? `, ${skippedFiles.length} non-log file${skippedFiles.length === 1 ? '' : 's'} skipped` : '') +
          `; ${report.length} alert${report.length === 1 ? '' : 's'}${bySeverity.length ? ` (${bySeverity.join(', ')})` : ''}` +
          (totals.ruleErrors ? `; ${totals.ruleErrors} rule errors (see warnings)` : '') +
          (failures.length ? `; ${failures.length} input${failures.length === 1 ? '' : 's'} could not be read` : ''),
      );

      if (failures.length > 0) setExit(ExitCode.inputError);
      if (report.length > 0 && !o.exitZero) setExit(ExitCode.findings);
    });
};
