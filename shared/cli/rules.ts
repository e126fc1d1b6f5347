import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { Severity } from '../alerts/schema';
import { DetectionConfig } from '../config/detection';
import { ValidationError } from '../core/errors';
import { silentLogger } from '../core/deps';
import { RULE_CATEGORIES, RuleCategory } from '../rules/engine/categories';
import { createEngine } from '../rules/engine/engine';
import type { AnyRuleModule, EventSelector, Requirement } from '../rules/engine/types';
import { rules as registry } from '../rules/registry';
import type { CliIo, CommandModule } from './io';

/**
 * `vigil rules`: what the detection rules are. `list` (table or JSON) for people and scripts, `show <id>` for one
 * rule, `docs` for the generated reference docs/rules.md (`npm run rules:docs`; a test fails when it is stale).
 * Everything here is derived from the rule modules themselves — metadata, option schemas, inline examples — so the
 * documentation cannot drift from the code.
 */

/** One option of a rule, from its zod schema (JSON Schema of the input side: defaults, enums, descriptions). */
export interface RuleOptionDoc {
  name: string;
  type: string;
  default?: unknown;
  description?: string;
}

/** What `vigil rules list --format json` prints per rule. */
export interface RuleSummary {
  id: string;
  title: string;
  severity: Severity;
  categories: RuleCategory[];
  /** `"all"` for rules that look at every record, else the (eventSource, eventNames) pairs the engine indexes. */
  events: 'all' | EventSelector[];
  requires: Requirement[];
  /** Matches with one dedup key in one log file before an alert is raised (1 unless the rule says otherwise). */
  threshold: number;
  options: RuleOptionDoc[];
}

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  items?: JsonSchemaNode;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
}

function typeText(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.type === 'array') return `list of ${node.items ? typeText(node.items) : 'values'}`;
  if (node.type === 'integer' || node.type === 'number') {
    const range = node.minimum !== undefined && node.maximum !== undefined ? ` ${node.minimum}–${node.maximum}` : '';
    return `${node.type}${range}`;
  }
  return Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'value');
}

export function optionDocs(rule: AnyRuleModule): RuleOptionDoc[] {
  if (!rule.options) return [];
  const schema = z.toJSONSchema(rule.options, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  return Object.entries(schema.properties ?? {}).map(([name, node]) => ({
    name,
    type: typeText(node),
    ...(node.default !== undefined ? { default: node.default } : {}),
    ...(node.description !== undefined ? { description: node.description } : {}),
  }));
}

export function summarize(rule: AnyRuleModule): RuleSummary {
  return {
    id: rule.id,
    title: rule.title,
    severity: rule.severity,
    categories: [...rule.categories],
    events: rule.events === 'all' ? 'all' : rule.events.map((e) => ({ source: e.source, names: [...e.names] })),
    requires: [...(rule.requires ?? [])],
    threshold: rule.threshold ?? 1,
    options: optionDocs(rule),
  };
}

const eventCount = (rule: AnyRuleModule): string =>
  rule.events === 'all' ? 'all' : String(rule.events.reduce((n, e) => n + e.names.length, 0));

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`);

export function renderRulesTable(list: readonly AnyRuleModule[], width = 120): string {
  const header = ['ID', 'SEVERITY', 'EVENTS', 'CATEGORIES', 'TITLE'];
  const rows = list.map((r) => [r.id, r.severity, eventCount(r), r.categories.join(','), r.title]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
  const used = widths.reduce((a, b) => a + b + 2, 0);
  const titleWidth = Math.max(20, width - used);
  const line = (cells: string[]) => [...cells.slice(0, 4).map((c, i) => pad(c, widths[i]!)), clip(cells[4]!, titleWidth)].join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/**
 * The rule's own part of the dedup key, as the engine computes it for the rule's first must-match example: shows
 * on-call what groups into one alert (e.g. `arn:aws:iam::111122223333:user/alice|sg-0123…`).
 */
export function exampleDedupKey(rule: AnyRuleModule): string | undefined {
  const example = rule.examples.match[0];
  if (!example) return undefined;
  const engine = createEngine({ config: DetectionConfig.parse(example.config ?? {}), rules: [rule], logger: silentLogger });
  const file = engine.beginFile({ key: 'example' });
  file.evaluate(example.record);
  const alert = file.finish().alerts[0];
  if (!alert) return undefined;
  const prefix = `${rule.id}|${alert.account}|`;
  return alert.dedupKey.startsWith(prefix) ? alert.dedupKey.slice(prefix.length) : alert.dedupKey;
}

/** Text for Markdown: `<…>` placeholders (`<account>`) must not turn into HTML, `|` must not split table cells. */
const text = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const md = (s: string): string => text(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string): string => `\`${s.replace(/`/g, 'ˋ')}\``;

const REQUIREMENT_TEXT: Record<Requirement, string> = {
  officeHours: '`officeHours`',
  allowedSourceCidrs: '`allowedSourceCidrs`',
  expectedRegions: '`expectedRegions`',
  iamUserNamePattern: '`iamUserNamePattern`',
};

function eventsMarkdown(rule: AnyRuleModule): string {
  if (rule.events === 'all') return 'every record (the rule’s first checks are a field comparison or a set lookup)';
  return rule.events.map((e) => `${code(e.source)}: ${e.names.join(', ')}`).join('; ');
}

/** The reference section of one rule (`vigil rules show <id>`, and each section of docs/rules.md). */
export function renderRuleMarkdown(rule: AnyRuleModule, level = 2): string {
  const h = '#'.repeat(level);
  const out: string[] = [];
  out.push(`${h} ${rule.id}`, '');
  out.push(`**${rule.title}** — base severity ${code(rule.severity)} · categories ${rule.categories.map(code).join(', ')}`, '');
  out.push(text(rule.description), '');
  out.push(`- **Events:** ${eventsMarkdown(rule)}`);
  if (rule.requires?.length) out.push(`- **Needs configuration:** ${rule.requires.map((r) => REQUIREMENT_TEXT[r]).join(', ')} (inactive without; \`vigil scan\` says so)`);
  out.push(`- **Threshold:** ${rule.threshold ?? 1} match${(rule.threshold ?? 1) === 1 ? '' : 'es'} with one dedup key in one log file`);
  const dedup = exampleDedupKey(rule);
  out.push(`- **Dedup key** (the rule’s part; the engine prefixes rule id and account): ${dedup !== undefined ? `e.g. ${code(dedup)}` : 'the actor’s ARN'}`);
  out.push('');
  const options = optionDocs(rule);
  if (options.length > 0) {
    out.push(`Options (\`detection.rules.${rule.id}.options\`):`, '');
    out.push('| option | type | default | meaning |', '|---|---|---|---|');
    for (const o of options) {
      out.push(`| ${code(o.name)} | ${md(o.type)} | ${o.default !== undefined ? code(JSON.stringify(o.default)) : '—'} | ${md(o.description ?? '—')} |`);
    }
    out.push('');
  }
  if (rule.falsePositives.length > 0) {
    out.push('Known false positives:', '', ...rule.falsePositives.map((f) => `- ${text(f)}`), '');
  }
  out.push(`Runbook: ${text(rule.runbook)}`, '');
  out.push('Examples (run by the registry test):', '');
  out.push(...rule.examples.match.map((e) => `- alerts: ${text(e.name)}${e.expect?.severity ? ` → ${e.expect.severity}` : ''}`));
  out.push(...rule.examples.noMatch.map((e) => `- quiet: ${text(e.name)}`));
  out.push('');
  out.push(`References: ${rule.references.map((r) => `<${r}>`).join(' · ')}`, '');
  return out.join('\n');
}

/** docs/rules.md: deterministic (no dates), so a test can compare it with the committed file. */
export function renderRulesMarkdown(list: readonly AnyRuleModule[] = registry): string {
  const sorted = [...list].sort((a, b) => a.id.localeCompare(b.id));
  const out: string[] = [
    '# Detection rules',
    '',
    '<!-- Generated from shared/rules/*.ts by `npm run rules:docs` (vigil rules docs > docs/rules.md). Do not edit: a test fails when this file is stale. -->',
    '',
    `${list.length} rules, ${RULE_CATEGORIES.length} categories. Each alert carries the categories of its rule. The ` +
      'severity shown is the base: rules raise or lower it per event (root, failed attempts, world-open, cross-account, ' +
      'admin policies …) and configuration may replace the base. How to tune rules, allow-lists, thresholds and ' +
      'profiles, and what each dedup key groups: [rule-pack.md](rule-pack.md).',
    '',
    '## By category',
    '',
    '| category | rules |',
    '|---|---|',
  ];
  for (const category of RULE_CATEGORIES) {
    const ids = sorted.filter((r) => r.categories.includes(category)).map((r) => `[${r.id}](#${r.id})`);
    out.push(`| ${code(category)} | ${ids.length > 0 ? ids.join(', ') : '—'} |`);
  }
  out.push('', '## All rules', '', '| rule | base severity | categories | events | title |', '|---|---|---|---|---|');
  for (const r of sorted) {
    out.push(`| [${r.id}](#${r.id}) | ${r.severity} | ${r.categories.join(', ')} | ${eventCount(r)} | ${md(r.title)} |`);
  }
  out.push('');
  for (const r of sorted) out.push(renderRuleMarkdown(r));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function selectRules(category: string | undefined): AnyRuleModule[] {
  const byId = [...registry].sort((a, b) => a.id.localeCompare(b.id));
  if (category === undefined) return byId;
  const parsed = RuleCategory.safeParse(category);
  if (!parsed.success) throw new ValidationError(`unknown category "${category}" (known: ${RULE_CATEGORIES.join(', ')})`);
  return byId.filter((r) => r.categories.includes(parsed.data));
}

export const rulesCommand: CommandModule = (program: Command, io: CliIo) => {
  const rulesCmd = program
    .command('rules')
    .description('The detection rules: list them, show one, or generate the reference (docs/rules.md).');

  rulesCmd
    .command('list')
    .description('List the detection rules: id, base severity, number of events (or "all"), categories, title.')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--category <category>', 'only rules of this category')
    .addHelpText('after', '\nExamples:\n  vigil rules list\n  vigil rules list --category idp-change\n  vigil rules list --format json | jq -r \'.[] | select(.severity == "high") | .id\'')
    .action((o: { format: 'table' | 'json'; category?: string }) => {
      const list = selectRules(o.category);
      if (o.format === 'json') io.stdout.write(`${JSON.stringify(list.map(summarize), null, 2)}\n`);
      // Titles are clipped to the terminal's width; piped output keeps them whole.
      else io.stdout.write(renderRulesTable(list, io.stdout.isTTY ? (io.stdout.columns ?? 120) : Number.POSITIVE_INFINITY));
    });

  rulesCmd
    .command('show')
    .description('Show one rule: description, events, options with defaults, dedup key, false positives, runbook, examples.')
    .argument('<id>', 'rule id (see `vigil rules list`)')
    .action((id: string) => {
      const rule = registry.find((r) => r.id === id);
      if (!rule) throw new ValidationError(`unknown rule id "${id}" (known: ${registry.map((r) => r.id).sort().join(', ')})`);
      io.stdout.write(renderRuleMarkdown(rule, 1));
    });

  rulesCmd
    .command('docs')
    .description('Print the rule reference as Markdown (what docs/rules.md holds: `npm run rules:docs`).')
    .action(() => {
      io.stdout.write(renderRulesMarkdown());
    });
};
