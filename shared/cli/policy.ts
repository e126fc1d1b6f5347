import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type Severity, Severity as SeveritySchema, atLeast, severityRank } from '../alerts/schema';
import { ConfigError, ValidationError } from '../core/errors';
import { type LintFinding, type LintReport, type SourceLint, lintSource } from '../policy/lint';
import { formatZodError } from '../policy/parse';
import { policyRules } from '../policy/rules';
import { toSarif } from '../policy/sarif';
import { AccountId, AttachedTo, PolicyKind } from '../policy/schema';
import { type LoadedSource, formatOf, loadSource } from '../policy/source';
import { AllowFile, type Suppression } from '../policy/suppress';
import { type CliIo, type CommandModule, ExitCode } from './io';

/** The allow file read from the working directory when `--allow` is not given. */
export const defaultAllowFile = '.vigil-policy-allow.yaml';

const lintableExtensions = /\.(json|ya?ml|template)$/i;
/** Directories a walk never enters: dependencies, VCS data, and dot-directories (caches, build output). */
const skipDir = (name: string): boolean => name === 'node_modules' || name.startsWith('.');
/** Text that suggests a file meant to be a policy or template, so that a parse error in it is worth an error. */
const looksRelevant = /"Statement"|\bStatement:|AWSTemplateFormatVersion|\bResources\b|iamRoleStatements/;

const toolVersion = (): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
};

interface LintCommandOptions {
  format: 'text' | 'json' | 'sarif';
  failOn: Severity | 'none';
  knownAccount: string[];
  accountId?: string;
  kind?: PolicyKind;
  attachedTo?: AttachedTo;
  allow?: string[];
  output?: string;
  showSuppressed?: boolean;
}

const displayPath = (cwd: string, abs: string): string => {
  const rel = path.relative(cwd, abs);
  return (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel).split(path.sep).join('/');
};

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Files to lint for each argument: a file as given, a directory walked (sorted, so output is stable). */
async function expand(arg: string, io: CliIo, errors: string[]): Promise<{ abs: string; explicit: boolean }[]> {
  const abs = path.resolve(io.cwd, arg);
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    errors.push(`${arg}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return [];
  }
  if (!info.isDirectory()) return [{ abs, explicit: true }];
  const out: { abs: string; explicit: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skipDir(e.name)) await walk(full);
      } else if (e.isFile() && lintableExtensions.test(e.name)) {
        out.push({ abs: full, explicit: false });
      }
    }
  };
  await walk(abs);
  return out;
}

function loadAllowFiles(files: string[], io: CliIo): Suppression[] {
  const out: Suppression[] = [];
  for (const file of files) {
    const abs = path.resolve(io.cwd, file);
    let value: unknown;
    try {
      value = parseYaml(readFileSync(abs, 'utf8'), { maxAliasCount: 100 });
    } catch (cause) {
      throw new ConfigError(`allow file ${file}: ${(cause as Error).message}`, { cause });
    }
    const parsed = AllowFile.safeParse(value);
    if (!parsed.success) throw new ConfigError(`allow file ${file}: ${formatZodError(parsed.error)}`);
    out.push(...parsed.data.ignore);
  }
  return out;
}

const severityCounts = (findings: readonly LintFinding[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const s of [...SeveritySchema.options].reverse()) {
    const n = findings.filter((f) => f.severity === s).length;
    if (n > 0) counts[s] = n;
  }
  return counts;
};

function renderText(report: LintReport, showSuppressed: boolean): string {
  const lines: string[] = [];
  const shown = report.findings.filter((f) => showSuppressed || !f.suppressed);
  for (const f of shown) {
    const where = [
      f.resource !== '-' ? f.resource : undefined,
      f.path || undefined,
      f.statementIndex !== null ? `Statement[${f.statementIndex}]${f.sid ? ` (${f.sid})` : ''}` : undefined,
    ]
      .filter((p): p is string => p !== undefined)
      .join(' ');
    lines.push(`${f.file}${f.line ? `:${f.line}` : ''}  ${f.severity.toUpperCase()}  ${f.ruleId}${where ? `  ${where}` : ''}`);
    lines.push(`    ${f.message}`);
    lines.push(`    fix: ${f.fixHint}`);
    if (f.suppressed) lines.push(`    accepted (${f.suppressed.by}): ${f.suppressed.reason}`);
  }
  const s = report.summary;
  const bySeverity = Object.entries(s.bySeverity)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  if (shown.length > 0) lines.push('');
  lines.push(
    `${s.findings} finding${s.findings === 1 ? '' : 's'}${bySeverity ? ` (${bySeverity})` : ''} in ${s.policies} polic${s.policies === 1 ? 'y' : 'ies'} ` +
      `from ${s.files} file${s.files === 1 ? '' : 's'}` +
      (s.suppressed > 0 ? `; ${s.suppressed} accepted by suppressions${showSuppressed ? '' : ' (--show-suppressed lists them)'}` : '') +
      (report.failOn !== 'none' ? `; ${s.failing} at or above ${report.failOn}` : ''),
  );
  return `${lines.join('\n')}\n`;
}

async function runLint(paths: string[], opts: LintCommandOptions, io: CliIo, setExit: (code: number) => void): Promise<void> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const allowFiles = opts.allow ?? (existsSync(path.join(io.cwd, defaultAllowFile)) ? [defaultAllowFile] : []);
  const allow = loadAllowFiles(allowFiles, io);
  const lintOptions = {
    knownAccounts: opts.knownAccount,
    ...(opts.accountId ? { accountId: opts.accountId } : {}),
    ...(opts.kind ? { kind: opts.kind } : {}),
    ...(opts.attachedTo ? { attachedTo: opts.attachedTo } : {}),
  };

  // Includes of serverless.yml (`${file(infra/x.yml)}`), relative to the including file.
  const absOf = new Map<string, string>();
  const loadInclude = (ref: string, from: string): LoadedSource => {
    const base = absOf.get(from) ?? path.resolve(io.cwd, from);
    const abs = path.resolve(path.dirname(base), ref);
    const display = displayPath(io.cwd, abs);
    absOf.set(display, abs);
    return loadSource(readFileSync(abs, 'utf8'), display, formatOf(abs, ''));
  };

  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  let files = 0;
  let skipped = 0;
  let policies = 0;
  const take = (result: SourceLint | undefined, display: string, explicit: boolean): void => {
    if (!result) {
      if (explicit) errors.push(`${display}: not an IAM policy, CloudFormation template or serverless config`);
      else skipped++;
      return;
    }
    files++;
    policies += result.policies;
    // A fragment linted on its own and through the serverless.yml that includes it reports once.
    for (const f of result.findings) {
      const key = JSON.stringify([f.file, f.path, f.statementIndex, f.ruleId, f.subjects]);
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(f);
    }
    errors.push(...result.errors);
    warnings.push(...result.warnings);
  };

  const lintText = (text: string, display: string, explicit: boolean, format: 'json' | 'yaml'): void => {
    let source: LoadedSource;
    try {
      source = loadSource(text, display, format);
    } catch (err) {
      if (explicit || looksRelevant.test(text)) errors.push(err instanceof Error ? err.message : String(err));
      else skipped++;
      return;
    }
    take(lintSource(source, lintOptions, allow, loadInclude), display, explicit);
  };

  for (const arg of paths) {
    if (arg === '-') {
      const text = await readStdin(io);
      lintText(text, '<stdin>', true, formatOf('', text));
      continue;
    }
    for (const { abs, explicit } of await expand(arg, io, errors)) {
      const display = displayPath(io.cwd, abs);
      absOf.set(display, abs);
      let text: string;
      try {
        text = await readFile(abs, 'utf8');
      } catch (err) {
        errors.push(`${display}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
      lintText(text, display, explicit, formatOf(abs, text));
    }
  }

  findings.sort(
    (a, b) =>
      a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || severityRank[b.severity] - severityRank[a.severity] || a.ruleId.localeCompare(b.ruleId),
  );
  const open = findings.filter((f) => !f.suppressed);
  const failing = opts.failOn === 'none' ? [] : open.filter((f) => atLeast(f.severity, opts.failOn as Severity));
  const report: LintReport = {
    tool: 'vigil-policy-lint',
    version: toolVersion(),
    failOn: opts.failOn,
    summary: {
      files,
      skipped,
      policies,
      findings: open.length,
      suppressed: findings.length - open.length,
      bySeverity: severityCounts(open),
      failing: failing.length,
      errors: errors.length,
    },
    findings,
    errors,
    warnings,
  };

  let output: string;
  if (opts.format === 'json') output = `${JSON.stringify(report, null, 2)}\n`;
  else if (opts.format === 'sarif') {
    const sarif = toSarif(findings, { version: report.version, errors, srcRoot: pathToFileURL(`${io.cwd}${path.sep}`).href });
    output = `${JSON.stringify(sarif, null, 2)}\n`;
  } else output = renderText(report, opts.showSuppressed ?? false);

  if (opts.output) await writeFile(path.resolve(io.cwd, opts.output), output);
  else io.stdout.write(output);
  for (const w of warnings) io.stderr.write(`vigil: warning: ${w}\n`);
  for (const e of errors) io.stderr.write(`vigil: error: ${e}\n`);
  if (skipped > 0) io.stderr.write(`vigil: skipped ${skipped} file${skipped === 1 ? '' : 's'} that are not policies or templates\n`);
  if (files === 0 && errors.length === 0) io.stderr.write('vigil: no IAM policy, CloudFormation template or serverless config found\n');

  if (errors.length > 0) setExit(ExitCode.inputError);
  if (failing.length > 0) setExit(ExitCode.findings);
}

const parseAccount = (value: string, previous: string[] = []): string[] => {
  const parsed = AccountId.safeParse(value.trim());
  if (!parsed.success) throw new InvalidArgumentError(`"${value}" is not an AWS account id (12 digits)`);
  return [...previous, parsed.data];
};

export const policyCommands: CommandModule = (program: Command, io: CliIo, setExit) => {
  const policy = program.command('policy').description('lint IAM policies and the policies inside CloudFormation/serverless templates');

  policy
    .command('lint')
    .description(
      'lint IAM policy JSON (identity, resource, trust) and the policies in CloudFormation/serverless templates (JSON or YAML). ' +
        'Exit 0 clean, 1 findings at or above --fail-on, 2 unreadable or invalid input (the rest is still linted).',
    )
    .argument('<paths...>', 'files, directories (walked for .json/.yaml/.yml/.template) or - for stdin')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity')
        .choices([...SeveritySchema.options, 'none'])
        .default('high'),
    )
    .option('--known-account <id>', 'an account you own or trust (repeatable); other accounts in principals are reported', parseAccount, [])
    .option('--account-id <id>', 'the account the policies live in (counts as known)')
    .addOption(new Option('--kind <kind>', 'kind of bare policy files (default: inferred)').choices(PolicyKind.options))
    .addOption(
      new Option('--attached-to <holder>', 'who holds bare identity policies; user/group enables the long-term-key checks').choices(
        AttachedTo.options,
      ),
    )
    .option('--allow <file>', `suppressions file (repeatable; default: ${defaultAllowFile} when present)`, (v: string, prev: string[] = []) => [...prev, v])
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--show-suppressed', 'list accepted findings too (text format)')
    .action(async (paths: string[], opts: LintCommandOptions) => {
      if (opts.accountId !== undefined && !AccountId.safeParse(opts.accountId).success) {
        throw new ValidationError(`--account-id ${opts.accountId}: an AWS account id is 12 digits`);
      }
      await runLint(paths, opts, io, setExit);
    });

  policy
    .command('rules')
    .description('list the policy checks with their severity and rationale')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((opts: { format: 'text' | 'json' }) => {
      if (opts.format === 'json') {
        io.stdout.write(`${JSON.stringify(policyRules, null, 2)}\n`);
        return;
      }
      const width = Math.max(...policyRules.map((r) => r.id.length));
      for (const r of policyRules) io.stdout.write(`${r.id.padEnd(width)}  ${r.severity.padEnd(8)}  ${r.title}\n`);
    });
};
