/**
 * The summary rows of a run, and the generated results block of bench/README.md (between the two marker comments;
 * everything outside them is written by hand and kept).
 */
import type { IpLookupBenchResults } from './ip-lookup';
import type { ColdStartResults } from './cold-start';
import type { CostResults } from './cost';
import type { IngestResults } from './ingest';
import type { JqOutcome } from './jq';
import type { MemoryResults } from './memory';
import type { BenchResults, SummaryRow } from './results-schema';

export interface Sections {
  ingest: IngestResults;
  memory: MemoryResults;
  jq: JqOutcome;
  ipLookup: IpLookupBenchResults;
  coldStart: ColdStartResults;
  cost: CostResults;
}

export const START = '<!-- bench:results:start -->';
export const END = '<!-- bench:results:end -->';

const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;
const mrate = (n: number) => `${(n / 1e6).toFixed(1)} M/s`;
const x = (n: number, digits = 2) => `${n.toFixed(digits)}×`;
const usd = (n: number) => (n >= 0.1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`);
const ms = (n: number) => `${n.toFixed(0)} ms`;
const mb = (n: number) => `${n.toFixed(0)} MB`;

export function summarize(s: Sections): SummaryRow[] {
  const { ingest, memory, jq, ipLookup, coldStart, cost } = s;
  const scans = memory.scans;
  const missing = coldStart.functions.filter((f) => !f.met.zip || !f.met.init);
  const zips = coldStart.functions.map((f) => f.zip.bytes);
  const inits = coldStart.functions.map((f) => f.init.cpuMs.min);
  const cheapest = [...cost.alternatives].sort((a, b) => a.perMillionRecords - b.perMillionRecords)[0];
  return [
    {
      id: 'ingest',
      title: 'CloudTrail ingest vs gunzip + JSON.parse',
      measured:
        `${x(ingest.ratio.cpu)} the floor's CPU time (${x(ingest.ratio.wall)} wall); ` +
        `${Math.round(ingest.throughput.recordsPerCpuSecond / 1000)}k records/s per core (floor ${Math.round(ingest.throughput.floorRecordsPerCpuSecond / 1000)}k/s)` +
        (ingest.callgrind ? `; ${x(ingest.callgrind.ratio)} in instructions (callgrind)` : ''),
      target: `≤ ${ingest.target.ratio}× the floor`,
      met: ingest.target.met,
    },
    {
      id: 'memory',
      title: 'Peak RSS, 100 MB and 1 GB logs',
      measured: `${scans.map((r) => `${mb(r.peakRssMB)} (${(r.bytes! / 1e6).toFixed(0)} MB file)`).join(', ')}; +${memory.growthMB} MB for 10× the file; whole-file floor ${mb(memory.floor.peakRssMB)}`,
      target: `≤ ${memory.target.peakRssMB} MB, flat with file size`,
      met: memory.target.met,
    },
    jq.available
      ? {
          id: 'jq',
          title: 'vigil (all rules) vs jq (five rules)',
          measured: `${x(jq.ratio.cpu, 1)} faster in CPU time (${x(jq.ratio.wall, 1)} wall); with only the same five rules ${x(jq.ratioFiveRules.cpu, 1)}`,
          target: `≥ ${jq.target.ratio}× faster`,
          met: jq.target.met,
          ...(jq.target.met ? {} : { note: `gunzip + JSON.parse alone is only ${x(jq.ceiling.cpu, 1)} faster than jq here` }),
        }
      : { id: 'jq', title: 'vigil (all rules) vs jq (five rules)', measured: `not measured: ${jq.reason}`, target: '≥ 5× faster', met: null },
    {
      id: 'ip-lookup',
      title: 'IP lookup',
      measured:
        `IPv4 ${mrate(ipLookup.vigil.ipv4.perSecond)} (${mrate(ipLookup.vigil.ipv4.perCpuSecond)} CPU), IPv6 ${mrate(ipLookup.vigil.ipv6.perSecond)} (${mrate(ipLookup.vigil.ipv6.perCpuSecond)} CPU); ` +
        `${ipLookup.ratios.ipv4VsFastestAlternative.toFixed(0)}× / ${ipLookup.ratios.ipv6VsFastestAlternative.toFixed(0)}× the fastest alternative; ` +
        `index build from the JSON ${ipLookup.build.coldJsonPlusBuildCpuMs.toFixed(0)} ms CPU (${ipLookup.build.coldJsonPlusBuildMs.toFixed(0)} ms wall) in a fresh process`,
      target: `≥ 10 M/s IPv4, ≥ 3 M/s IPv6, ≥ ${ipLookup.targets.ratio}×, build < ${ipLookup.targets.buildMs} ms`,
      met: Object.values(ipLookup.met).every(Boolean),
    },
    {
      id: 'cold-start',
      title: 'Cold start per function',
      measured: `zips ${kb(Math.min(...zips))}–${kb(Math.max(...zips))}; module init ${ms(Math.min(...inits))}–${ms(Math.max(...inits))} CPU (fastest of ${coldStart.repeats} imports)`,
      target: `zip ≤ ${kb(coldStart.targets.zipBytes)}, init ≤ ${coldStart.targets.initMs} ms`,
      met: missing.length === 0,
      ...(missing.length
        ? {
            note: `missed by ${missing
              .map((f) => `${f.name} (${[!f.met.zip ? `zip ${kb(f.zip.bytes)}` : '', !f.met.init ? `init ${ms(f.init.cpuMs.min)}` : ''].filter(Boolean).join(', ')})`)
              .join('; ')}`,
          }
        : {}),
    },
    {
      id: 'cost',
      title: 'Cost per million records',
      measured: `${usd(cost.vigil.total)} (Lambda arm64 at ${cost.memoryMB} MB, requests, S3 and SQS); cheapest managed alternative ${cheapest ? `${usd(cheapest.perMillionRecords)} (${cheapest.name})` : '-'}`,
      target: 'none: compared with list prices',
      met: null,
    },
  ];
}

const ok = (met: boolean | null) => (met === null ? '–' : met ? '**met**' : '**not met**');
const spread = (s: { median: number; min: number; max: number }) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;

export function renderReadmeBlock(results: BenchResults, s: Sections): string {
  const m = results.machine as unknown as { cpuModel: string; cpus: number; platform: string; memoryGiB: number; node: string; v8: string; kernel: string };
  const { ingest, memory, jq, ipLookup, coldStart, cost } = s;
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  add(
    START,
    `_Generated by \`npm run bench\`${results.smoke ? ' (smoke: tiny inputs, timings meaningless)' : ''} on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${(results.durationSeconds / 60).toFixed(1)} min. Do not edit this block by hand._`,
    '',
    `**Machine:** ${m.cpus}× ${m.cpuModel}, ${m.platform} (kernel ${m.kernel}), ${m.memoryGiB} GiB RAM, Node ${m.node} (V8 ${m.v8}). ` +
      `Load average at start ${results.machine.loadAverageAtStart.join(' / ')}, at end ${results.loadAverageAtEnd.join(' / ')} (1/5/15 min): ` +
      'other work shared the two cores, which stretches wall-clock times; CPU times and per-round ratios are the robust figures.',
    '',
    '| # | benchmark | measured | target | |',
    '|---|---|---|---|---|',
    ...results.summary.map((r, i) => `| ${i + 1} | ${r.title} | ${r.measured}${r.note ? ` — ${r.note}` : ''} | ${r.target} | ${ok(r.met)} |`),
    '',
  );

  // 1
  const c = ingest.contenders;
  add(
    '### 1. CloudTrail ingest against the floor',
    '',
    `Input \`${ingest.input.file}\`: ${ingest.input.records.toLocaleString('en')} records, ${(ingest.input.bytes / 1e6).toFixed(0)} MB uncompressed, ${(ingest.input.gzipBytes / 1e6).toFixed(1)} MB gzip. ` +
      `vigil: ${ingest.rules.active}/${ingest.rules.registered} rules active${ingest.rules.inactive.length ? ` (inactive: ${ingest.rules.inactive.map((r) => r.ruleId).join(', ')})` : ''}, ` +
      `source-IP enrichment on (${ingest.enrichment.ipRanges}), ${ingest.output.matches.toLocaleString('en')} rule matches → ${ingest.output.alerts} alerts, ${ingest.output.ruleErrors} rule errors. ` +
      `${ingest.rounds} rounds, contenders rotated, a full GC before each; median (min–max) in ms.`,
    '',
    '| contender | wall | CPU |',
    '|---|---:|---:|',
    `| floor: \`gunzipSync\` + \`JSON.parse\` of the whole file | ${spread(c.floor.wallMs)} | ${spread(c.floor.cpuMs)} |`,
    `| **vigil full path** (stream, gunzip, split, parse, guard, all rules, enrichment, alerts) | ${spread(c.vigil.wallMs)} | ${spread(c.vigil.cpuMs)} |`,
    `| stage: streaming gunzip only | ${spread(c.gunzipStream.wallMs)} | ${spread(c.gunzipStream.cpuMs)} |`,
    `| stage: reader (gunzip + split + parse + guard), no rules | ${spread(c.reader.wallMs)} | ${spread(c.reader.cpuMs)} |`,
    '',
    `Ratio vigil / floor (median of per-round ratios): **${x(ingest.ratio.cpu)} CPU**, ${x(ingest.ratio.wall)} wall. ` +
      `Inside the floor: gunzip ${ms(c.floor.gunzipCpuMs.median)}, JSON.parse ${ms(c.floor.parseCpuMs.median)}. ` +
      `vigil's CPU time: gunzip ${ms(ingest.breakdown.gunzipMs)}, split + parse + guard ${ms(ingest.breakdown.splitParseGuardMs)}, rules + enrichment + alerts ${ms(ingest.breakdown.rulesEnrichAlertsMs)}. ` +
      `Throughput: ${ingest.throughput.recordsPerCpuSecond.toLocaleString('en')} records per CPU-second (${ingest.throughput.uncompressedMBPerCpuSecond} MB/s uncompressed), ${ingest.throughput.recordsPerSecond.toLocaleString('en')} records/s wall.`,
    '',
  );
  if (ingest.engine) {
    const e = ingest.engine;
    add(
      `The engine alone, over the ${ingest.input.records.toLocaleString('en')} records parsed beforehand (CPU ms, median of ${e.repeats}): ` +
        `no rules ${ms(e.noRulesMs)} (context and dispatch), all rules **${ms(e.allRulesMs)}**. The costliest rules, each alone above the no-rule run ` +
        '(rules share lazily computed context, so these overlap):',
      '',
      '| rule | CPU ms | matching records |',
      '|---|---:|---:|',
      ...e.perRule.slice(0, 8).map((r) => `| ${r.ruleId} | ${r.ms.toFixed(0)} | ${r.matches.toLocaleString('en')} |`),
      `| the other ${Math.max(0, e.perRule.length - 8)} rules together | ${e.perRule.slice(8).reduce((a, r) => a + r.ms, 0).toFixed(0)} | ${e.perRule.slice(8).reduce((a, r) => a + r.matches, 0).toLocaleString('en')} |`,
      '',
    );
  }
  if (ingest.callgrind) {
    add(
      `Instruction counts under callgrind (load-independent), \`${ingest.callgrind.file}\` (${(ingest.callgrind.bytes / 1e6).toFixed(0)} MB, ${ingest.callgrind.records.toLocaleString('en')} records), each side minus its start-up: ` +
        `floor ${(ingest.callgrind.instructions.floor / 1e9).toFixed(2)} G, vigil ${(ingest.callgrind.instructions.vigil / 1e9).toFixed(2)} G → **${x(ingest.callgrind.ratio)}**.`,
      '',
    );
  }

  // 2
  add(
    '### 2. Memory',
    '',
    'Peak RSS of a fresh `node` process running the bundled scan (bench/child.ts), highest of the repeats.',
    '',
    '| process | input | peak RSS |',
    '|---|---|---:|',
    `| baseline: modules, configuration, engine, ip-ranges index; nothing read | – | ${mb(memory.baseline.peakRssMB)} |`,
    ...memory.scans.map((r) => `| vigil scan | ${(r.bytes! / 1e6).toFixed(0)} MB, ${r.records.toLocaleString('en')} records | **${mb(r.peakRssMB)}** |`),
    `| floor: whole file gunzipped and parsed | ${(memory.floor.bytes! / 1e6).toFixed(0)} MB | ${mb(memory.floor.peakRssMB)} |`,
    '',
    `Ten times the file adds ${memory.growthMB} MB. The whole-file floor cannot read the 1 GB file at all (its text is longer than V8's maximum string length).`,
    '',
  );

  // 3
  add('### 3. Against jq', '');
  if (jq.available) {
    add(
      `\`${jq.command}\` (${jq.jqVersion}) against vigil in-process, ${jq.rounds} rounds alternating; median (min–max) ms. jq's CPU time is the pipeline's (gzip + jq).`,
      '',
      '| contender | wall | CPU |',
      '|---|---:|---:|',
      `| jq, five rules | ${spread(jq.jq.wallMs)} | ${spread(jq.jq.cpuMs)} |`,
      `| **vigil, all ${jq.vigilAllRules.rules} rules** | ${spread(jq.vigilAllRules.wallMs)} | ${spread(jq.vigilAllRules.cpuMs)} |`,
      `| vigil, the same five rules | ${spread(jq.vigilFiveRules.wallMs)} | ${spread(jq.vigilFiveRules.cpuMs)} |`,
      `| floor: gunzip + JSON.parse of the whole file | ${spread(jq.floor.wallMs)} | ${spread(jq.floor.cpuMs)} |`,
      '',
      `vigil with all rules is **${x(jq.ratio.cpu, 1)} faster in CPU time** (${x(jq.ratio.wall, 1)} wall); with the five rules ${x(jq.ratioFiveRules.cpu, 1)}. ` +
        `The floor is ${x(jq.ceiling.cpu, 1)} faster than jq (${x(jq.ceiling.wall, 1)} wall): the most any engine that parses every record with JSON.parse can gain. Matching records per rule (jq lines / vigil matches):`,
      '',
      '| rule | jq | vigil |',
      '|---|---:|---:|',
      ...Object.entries(jq.matches).map(([id, n]) => `| ${id} | ${n.jq} | ${n.vigil} |`),
      '',
    );
  } else {
    add(`Not measured: ${jq.reason}.`, '');
  }

  // 4
  const ip = ipLookup;
  add(
    '### 4. IP lookup',
    '',
    `Full ip-ranges ${ip.input.syncToken} (${ip.input.ipv4Entries} IPv4 + ${ip.input.ipv6Entries} IPv6 entries), ${ip.input.ipsPerFamily.toLocaleString('en')} random addresses per family (half inside AWS), from bench/ip-lookup.ts.`,
    '',
    '| lookup | IPv4 wall (CPU) | IPv6 wall (CPU) |',
    '|---|---:|---:|',
    `| **vigil** (interval index) | ${mrate(ip.vigil.ipv4.perSecond)} (${mrate(ip.vigil.ipv4.perCpuSecond)}) | ${mrate(ip.vigil.ipv6.perSecond)} (${mrate(ip.vigil.ipv6.perCpuSecond)}) |`,
    ...Object.entries(ip.alternatives).map(
      ([name, a]) => `| ${name}: ${a.usage} | ${(a.ipv4.perSecond / 1e3).toFixed(1)} k/s | ${(a.ipv6.perSecond / 1e3).toFixed(1)} k/s |`,
    ),
    '',
    `vigil vs the fastest alternative: IPv4 ${ip.ratios.ipv4VsFastestAlternative.toFixed(0)}× (${ip.ratios.fastestIpv4}), IPv6 ${ip.ratios.ipv6VsFastestAlternative.toFixed(0)}× (${ip.ratios.fastestIpv6}). ` +
      `Allow-list (${ip.vigil.allowList.cidrs} CIDRs, mixed families): ${mrate(ip.vigil.allowList.perSecond)}. ` +
      `Index build from the JSON in a fresh process: ${ip.build.coldJsonPlusBuildCpuMs.toFixed(1)} ms CPU, ${ip.build.coldJsonPlusBuildMs.toFixed(1)} ms wall (warm: JSON.parse ${ip.build.jsonParseMs.toFixed(1)} ms + build ${ip.build.buildMs.toFixed(1)} ms; the zod validation of a snapshot, not part of the build, ${ip.build.schemaParseMs.toFixed(1)} ms).`,
    '',
  );

  // 5
  const fnRows = coldStart.functions.map((f) => {
    const top = f.bytesByGroup
      .slice(0, 4)
      .map((g) => `${g.group} ${(g.share * 100).toFixed(0)}%`)
      .join(', ');
    const ext = f.sdkFromRuntime ? `${kb(f.sdkFromRuntime.zipBytes)} / ${ms(f.sdkFromRuntime.init.cpuMs.median)}` : '–';
    return (
      `| ${f.name} | ${f.memoryMB} MB | ${f.met.zip ? kb(f.zip.bytes) : `**${kb(f.zip.bytes)}**`}${f.zip.measured ? '' : ' (est.)'} | ${kb(f.bundleBytes)} | ` +
      `${ms(f.init.wallMs.median)} | ${f.met.init ? ms(f.init.cpuMs.min) : `**${ms(f.init.cpuMs.min)}**`} (${ms(f.init.cpuMs.median)}) | ${ms(f.builtins.cpuMs.median)} | ${top} | ${ext} |`
    );
  });
  add(
    '### 5. Cold start',
    '',
    `Zips from \`${coldStart.source}\`; module init = \`await import()\` of the bundled handler in a fresh Node process with the function's environment (NODE_OPTIONS \`${coldStart.nodeOptions || '(none)'}\`), ` +
      `${coldStart.repeats} times per module, interleaved; init CPU is the fastest import (the target is judged on it), the median in brackets, other figures medians. An empty module imports in ${ms(coldStart.emptyImport.wallMs.median)} (${ms(coldStart.emptyImport.cpuMs.median)} CPU). ` +
      'Bold: over the target.',
    '',
    '| function | memory | zip | bundle | init wall | init CPU, best (median) | Node built-ins alone (CPU) | largest parts of the bundle | `@aws-sdk/*` from the runtime: zip / init CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
    ...fnRows,
    '',
  );
  if (coldStart.dependencyCosts) {
    add(
      'Each dependency group imported alone (its own bundle, same build options; not additive — they share Node built-ins):',
      '',
      '| group | bundle | init wall | init CPU |',
      '|---|---:|---:|---:|',
      ...coldStart.dependencyCosts.map((d) => `| ${d.name} | ${kb(d.bundleBytes)} | ${ms(d.init.wallMs.median)} | ${ms(d.init.cpuMs.median)} |`),
      '',
    );
  }
  const level1 = coldStart.functions.map((f) => `${f.name} ${kb(f.level1ZipBytes)}`).join(', ');
  add(
    `The zips are rewritten at deflate level 9 by infra/plugins/zip-best-compression.cjs; serverless-esbuild's own zips (deflate level 1) would be: ${level1}.`,
    '',
  );

  // 6
  add(
    '### 6. Cost per million CloudTrail records',
    '',
    `From (1): ${cost.cpuSecondsPerMillionRecords} CPU-seconds per million records on this machine. cloudtrailIngest is configured with ${cost.memoryMB} MB ` +
      `(${((cost.memoryMB / 1769) * 100).toFixed(0)} % of a vCPU), so a million records take ${cost.lambdaSecondsPerMillionRecords} s of Lambda time = ${cost.gbSecondsPerMillionRecords} GB-s. ` +
      `Assumed: ${cost.assumptions.recordsPerFile.toLocaleString('en')} records per log file, ${cost.assumptions.filesPerInvocation} file per invocation (no batching benefit), ${cost.assumptions.averageRecordBytes} bytes per record (the benchmark's). Prices: ${cost.pricesAsOf}.`,
    '',
    '| | per million records |',
    '|---|---:|',
    `| **vigil total** | **${usd(cost.vigil.total)}** |`,
    `| — Lambda arm64 duration | ${usd(cost.vigil.computeArm64)} |`,
    `| — Lambda requests | ${usd(cost.vigil.requests)} |`,
    `| — S3 GET + SQS requests | ${usd(cost.vigil.sqsAndS3)} |`,
    `| (Lambda x86_64 duration instead, for comparison) | ${usd(cost.vigil.computeX86)} |`,
    ...cost.alternatives.map((a) => `| ${a.name} (${a.basis}) | ${usd(a.perMillionRecords)} (${(cost.ratios[a.name] ?? 0).toLocaleString('en')}× vigil) |`),
    '',
    END,
  );
  return lines.join('\n');
}

export function replaceReadmeBlock(readme: string, block: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return `${readme.trimEnd()}\n\n${block}\n`;
  return readme.slice(0, start) + block + readme.slice(end + END.length);
}
