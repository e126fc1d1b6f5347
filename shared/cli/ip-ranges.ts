import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import { createS3Client } from '../aws/s3';
import type { S3Like } from '../aws/s3';
import type { Logger } from '../core/deps';
import { ValidationError } from '../core/errors';
import { cliLogger } from '../core/logger';
import { diffEntries, formatDiffText, totalChanges } from '../ip-ranges/diff';
import { isIp } from '../ip-ranges/ip';
import { type LoadedIpRanges } from '../ip-ranges/load';
import { type IpIndex, buildIpIndex } from '../ip-ranges/lookup';
import { type EntryQuery, type FamilyChoice, distinctPrefixes, entriesOf, entryMatcher, listRegions, listServices, queryEntries } from '../ip-ranges/queries';
import { type IpEntry, createDateToDate } from '../ip-ranges/schema';
import { type SourceDeps, type SourceOptions, cacheDir, loadSource, resolveSource } from '../ip-ranges/source';
import { type CliIo, type CommandModule, ExitCode } from './io';

/**
 * `vigil ip-ranges`: what the original script answered (list regions/services, the prefixes of a service in a region
 * plus GLOBAL, -v age and sync token) and more: IPv6, border groups, JSON/CSV, `lookup` of who owns an IP, `diff`.
 */

type Format = 'text' | 'json' | 'csv';

interface IpRangesOptions extends SourceOptions {
  listregions?: boolean;
  listservices?: boolean;
  service?: string;
  region?: string;
  borderGroup?: string;
  global: boolean;
  ipv6?: boolean;
  all?: boolean;
  format: Format;
  verbose: number;
}

const DESCRIPTION = `Query AWS's published IP ranges (ip-ranges.json).

By default the file comes from https://ip-ranges.amazonaws.com/ip-ranges.json through a local cache
($XDG_CACHE_HOME/vigil or ~/.cache/vigil), downloaded again when older than a day or with --refresh.

Asking for a region also returns the GLOBAL entries of the service (CloudFront, Route 53 health checks,
Global Accelerator … are reachable from every region), as the original script did; --no-global leaves them
out. Service, region and border-group names are matched case-insensitively.`;

const EXAMPLES = `
Examples:
  vigil ip-ranges --listregions
  vigil ip-ranges --service EC2 --region ap-southeast-2          IPv4 CIDRs of EC2 in ap-southeast-2 plus GLOBAL
  vigil ip-ranges --service S3 --region us-east-1 --all --format csv
  vigil ip-ranges -v --file ip-ranges.json --listservices         also print age and sync token on stderr
  vigil ip-ranges lookup 54.243.31.193 2600:1f18:3fff:f800::1
  cut -f1 access.log | vigil ip-ranges lookup - --format json     streaming, one answer line per input line
  vigil ip-ranges diff old.json new.json --format json`;

const addSourceOptions = (cmd: Command): Command =>
  cmd
    .option('--file <path>', 'read ip-ranges.json from a local file')
    .option('--url <url>', 'read it from an https:// URL, s3://bucket/key, or s3://bucket (the newest stored snapshot)')
    .option('--refresh', 'download a fresh copy into the cache now')
    .option('--md5 <hex>', 'fail unless the file has this md5 (as in an AmazonIpSpaceChanged message)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
    .option('-v, --verbose', 'print age and sync token on stderr; -vv: also the whole file', (_: string, n: number) => n + 1, 0);

function family(o: { ipv6?: boolean; all?: boolean }): FamilyChoice {
  if (o.ipv6 && o.all) throw new ValidationError('use either --ipv6 or --all, not both');
  return o.all ? 'all' : o.ipv6 ? 'ipv6' : 'ipv4';
}

const csvField = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csvRow = (values: string[]): string => `${values.map(csvField).join(',')}\n`;
const CSV_HEADER = ['family', 'prefix', 'region', 'service', 'network_border_group'];
const entryCsv = (e: IpEntry): string[] => [e.family, e.prefix, e.region, e.service, e.networkBorderGroup ?? ''];

function sourceDeps(io: CliIo, logger: Logger): SourceDeps {
  let s3: S3Like | undefined;
  return {
    fetch: io.fetch,
    clock: io.clock,
    logger,
    env: io.env,
    cwd: io.cwd,
    s3: () => (s3 ??= createS3Client(io.env)),
  };
}

function printVerbose(io: CliIo, loaded: LoadedIpRanges, verbose: number): void {
  if (verbose < 1) return;
  const created = createDateToDate(loaded.ranges.createDate);
  const days = Math.floor((io.clock.now().getTime() - created.getTime()) / 86_400_000);
  io.stderr.write(
    `source: ${loaded.origin}\n` +
      `created: ${loaded.ranges.createDate} UTC (${days} day${days === 1 ? '' : 's'} ago)\n` +
      `syncToken: ${loaded.ranges.syncToken}\n` +
      `md5: ${loaded.md5}\n`,
  );
  if (verbose >= 2) {
    io.stderr.write(Buffer.from(loaded.bytes));
    io.stderr.write('\n');
  }
}

function writeNames(io: CliIo, names: string[], format: Format, column: string): void {
  if (format === 'json') io.stdout.write(`${JSON.stringify(names, null, 2)}\n`);
  else if (format === 'csv') io.stdout.write(csvRow([column]) + names.map((n) => csvRow([n])).join(''));
  else io.stdout.write(names.map((n) => `${n}\n`).join(''));
}

function writeEntries(io: CliIo, entries: IpEntry[], format: Format): void {
  if (format === 'json') io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  else if (format === 'csv') io.stdout.write(csvRow(CSV_HEADER) + entries.map((e) => csvRow(entryCsv(e))).join(''));
  // A CIDR used by several services is one line: text output is for firewalls and allow-lists.
  else io.stdout.write(distinctPrefixes(entries).map((p) => `${p}\n`).join(''));
}

function lookupLine(ip: string, matches: readonly IpEntry[], format: Format): string {
  if (format === 'json') return `${JSON.stringify({ ip, matches })}\n`;
  if (format === 'csv') {
    if (matches.length === 0) return csvRow([ip, '', '', '', '', '']);
    return matches.map((m) => csvRow([ip, ...entryCsv(m)])).join('');
  }
  if (matches.length === 0) return `${ip}\t-\n`;
  const nbg = (m: IpEntry) => (m.networkBorderGroup && m.networkBorderGroup !== m.region ? ` (${m.networkBorderGroup})` : '');
  return `${ip}\t${matches.map((m) => `${m.prefix} ${m.service} ${m.region}${nbg(m)}`).join(', ')}\n`;
}

async function runLookup(io: CliIo, index: IpIndex, ips: string[], format: Format, setExit: (code: number) => void): Promise<void> {
  if (format === 'csv') io.stdout.write(csvRow(['ip', ...CSV_HEADER]));
  if (ips.length === 1 && ips[0] === '-') {
    // Streaming: one answer per input line as it arrives, so `tail -f | vigil ip-ranges lookup -` works.
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
    let lineNo = 0;
    for await (const raw of lines) {
      lineNo++;
      const ip = raw.trim();
      if (ip === '' || ip.startsWith('#')) continue;
      if (!isIp(ip)) {
        io.stderr.write(`vigil: error: line ${lineNo}: not an IP address: ${JSON.stringify(ip)}\n`);
        setExit(ExitCode.inputError);
        continue;
      }
      io.stdout.write(lookupLine(ip, index.lookup(ip), format));
    }
    return;
  }
  const invalid = ips.filter((ip) => !isIp(ip));
  if (invalid.length > 0) {
    throw new ValidationError(`not an IP address: ${invalid.map((s) => JSON.stringify(s)).join(', ')}`);
  }
  for (const ip of ips) io.stdout.write(lookupLine(ip, index.lookup(ip), format));
}

export const ipRangesCommand: CommandModule = (program, io, setExit) => {
  const logger = (verbose: number) => cliLogger(verbose > 0 ? 'info' : 'warn', io.stderr);

  const cmd = addSourceOptions(program.command('ip-ranges'))
    .summary("query AWS's IP ranges: list, filter, look up IPs, diff versions")
    .description(DESCRIPTION)
    .option('--listregions', 'list the regions (sorted, unique; GLOBAL included)')
    .option('--listservices', 'list the services (sorted, unique)')
    .option('-s, --service <name>', 'only entries of this service (EC2, S3, CLOUDFRONT, AMAZON …)')
    .option('-r, --region <name>', "only entries of this region, plus the service's GLOBAL entries")
    .option('--border-group <name>', 'only entries of this network border group (e.g. us-east-1-wl1-bos-wlz-1)')
    .option('--no-global', 'with --region: leave out the GLOBAL entries')
    .option('--ipv6', 'IPv6 prefixes only (default: IPv4 only)')
    .option('--all', 'both IPv4 and IPv6 prefixes')
    .addHelpText('after', `${EXAMPLES}\n\nCache: ${cacheDir(io.env)}\n`)
    .action(async (o: IpRangesOptions) => {
      const fam = family(o);
      const loaded = await resolveSource(o, sourceDeps(io, logger(o.verbose)));
      printVerbose(io, loaded, o.verbose);
      const r = loaded.ranges;
      if (o.listregions && o.listservices) throw new ValidationError('use either --listregions or --listservices');
      if (o.listregions) return writeNames(io, listRegions(r, fam), o.format, 'region');
      if (o.listservices) return writeNames(io, listServices(r, fam), o.format, 'service');
      const query: EntryQuery = {
        service: o.service,
        region: o.region,
        networkBorderGroup: o.borderGroup,
        includeGlobal: o.global,
        family: fam,
      };
      writeEntries(io, queryEntries(r, query), o.format);
    });

  cmd
    .command('lookup')
    .description(
      'Which AWS ranges contain each IP (IPv4 or IPv6), most specific first. "-" reads IPs from stdin, one per ' +
        'line, and answers each line as it arrives. Text: "IP<TAB>prefix service region, …" ("-" when none); ' +
        '--format json: one JSON object per line ({"ip", "matches"}); csv: one row per match.',
    )
    .argument('<ip...>', 'IP addresses, or - to read them from stdin')
    .configureHelp({ showGlobalOptions: true })
    .action(async (ips: string[], _o: unknown, sub: Command) => {
      const o = sub.optsWithGlobals<IpRangesOptions>();
      const loaded = await resolveSource(o, sourceDeps(io, logger(o.verbose)));
      printVerbose(io, loaded, o.verbose);
      await runLookup(io, buildIpIndex(loaded.ranges), ips, o.format, setExit);
    });

  cmd
    .command('diff')
    .description(
      'Compare two versions as sets of (prefix, region, service, network border group): added, removed and moved ' +
        'entries, CIDRs added and removed, breakdowns by service and region. OLD and NEW are files, https:// URLs or ' +
        's3:// URIs. --service/--region/--border-group restrict both sides first. Exit code 1 when entries differ.',
    )
    .argument('<old>', 'the older ip-ranges.json')
    .argument('<new>', 'the newer ip-ranges.json')
    .configureHelp({ showGlobalOptions: true })
    .action(async (oldSpec: string, newSpec: string, _o: unknown, sub: Command) => {
      const o = sub.optsWithGlobals<IpRangesOptions>();
      if (o.format === 'csv') throw new ValidationError('diff prints text or json (--format csv is for queries)');
      const deps = sourceDeps(io, logger(o.verbose));
      const [a, b] = await Promise.all([loadSource(oldSpec, deps), loadSource(newSpec, deps)]);
      const filter = entryMatcher({ service: o.service, region: o.region, networkBorderGroup: o.borderGroup, includeGlobal: o.global });
      const pick = (l: LoadedIpRanges) => entriesOf(l.ranges, 'all').filter(filter);
      const d = diffEntries(pick(a), pick(b), {
        old: { syncToken: a.ranges.syncToken, createDate: a.ranges.createDate },
        new: { syncToken: b.ranges.syncToken, createDate: b.ranges.createDate },
      });
      if (Number(a.ranges.syncToken) > Number(b.ranges.syncToken)) {
        io.stderr.write(`vigil: warning: OLD (syncToken ${a.ranges.syncToken}) is newer than NEW (${b.ranges.syncToken})\n`);
      }
      io.stdout.write(o.format === 'json' ? `${JSON.stringify(d, null, 2)}\n` : `${formatDiffText(d)}\n`);
      setExit(totalChanges(d) > 0 ? ExitCode.findings : ExitCode.ok);
    });
};
