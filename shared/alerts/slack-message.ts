import {
  type SlackMessage,
  type VigilBlock,
  blockKitIssues,
  context,
  escapeMrkdwn as esc,
  fieldsSection,
  header,
  limits,
  section,
} from './block-kit';
import { type AlertView, type DisplayOptions, clip, formatUtc, shortActor, truncateList, viewAlert } from './display';
import type { Alert } from './schema';
import { ValidationError } from '../core/errors';

/** How a grouped post presents the burst it stands for. */
export interface GroupSummary {
  /** Sum of the alerts' counts in the window. */
  count: number;
  /** Number of distinct alerts in the window. */
  alerts: number;
  firstSeen: string;
  lastSeen: string;
  /** ISO end of the grouping window; present while the window is open. */
  openUntil?: string;
  /** How later alerts of the window show up: this post is edited (bot token) or one roll-up follows (webhook). */
  mode?: 'edit' | 'rollup';
}

export interface SlackRenderOptions extends DisplayOptions {
  group?: GroupSummary;
  /** How many CIDRs per list an IP-space alert shows (the counts are always exact). */
  maxCidrs?: number;
}

const DEFAULT_MAX_CIDRS = 15;

const code = (s: string) => `\`${esc(s).replace(/`/g, "'")}\``;
const link = (url: string, label: string) => `<${url.replace(/[<>|]/g, encodeURIComponent)}|${esc(label)}>`;

function howMany(view: AlertView, group?: GroupSummary): string {
  if (group && group.alerts > 1) {
    const lines = [`*${group.count}* in ${group.alerts} alerts`];
    lines.push(`first ${formatUtc(group.firstSeen)}`, `last ${formatUtc(group.lastSeen)}`);
    return lines.join('\n');
  }
  const lines = [`*${view.count}*`];
  if (view.firstSeenUtc) lines.push(`first ${view.firstSeenUtc}`);
  if (view.lastSeenUtc) lines.push(`last ${view.lastSeenUtc}`);
  return lines.join('\n');
}

function ipSpaceBlocks(view: AlertView, maxCidrs: number): VigilBlock[] {
  const ip = view.ipSpace;
  if (!ip) return [];
  const blocks: VigilBlock[] = [];
  const lines: string[] = [];
  if (ip.counts.length > 0) {
    // Zero counts are noise next to the ones that changed; all-zero still shows (a diff of nothing is news too).
    const nonZero = ip.counts.filter(([, n]) => n !== 0);
    lines.push(`*Changes* ${(nonZero.length > 0 ? nonZero : ip.counts).map(([k, n]) => `${esc(k.replace(/_/g, ' '))} *${n}*`).join(' · ')}`);
  }
  if (ip.byService) lines.push(`*By service* ${esc(ip.byService)}`);
  if (ip.version) lines.push(`*Version* ${esc(ip.version)}`);
  if (ip.flapping.length > 0) {
    const { shown, more } = truncateList(ip.flapping, 10);
    lines.push(`*Flapping* ${esc(shown.join(', '))}${more > 0 ? ` … +${more}` : ''}`);
  }
  if (ip.suppressed > 0) lines.push(`${ip.suppressed} flapping CIDRs left out (already alerted)`);
  if (ip.moved > 0) lines.push(`${ip.moved} entries moved region or border group`);
  if (lines.length > 0) blocks.push(section(lines.join('\n')));

  for (const [label, list, total] of [
    ['Added CIDRs', ip.added, ip.addedTotal],
    ['Removed CIDRs', ip.removed, ip.removedTotal],
  ] as const) {
    if (total === 0 && list.length === 0) continue;
    const all = Math.max(total, list.length);
    const title = `*${label} (${all})*`;
    // As many whole CIDRs as fit the section beside the title, the fences and the "… and N more" line.
    const budget = limits.sectionText - title.length - 8 - '\n… and 9999999 more'.length;
    const shown: string[] = [];
    let used = 0;
    for (const cidr of truncateList(list, maxCidrs).shown) {
      const piece = esc(cidr);
      if (used + piece.length + 1 > budget) break;
      shown.push(piece);
      used += piece.length + 1;
    }
    const more = all - shown.length;
    const fence = shown.length > 0 ? `\n\`\`\`${shown.join('\n')}\`\`\`` : '';
    blocks.push(section(`${title}${fence}${more > 0 ? `\n… and ${more} more` : ''}`));
  }
  return blocks;
}

function alertBlocks(view: AlertView, options: SlackRenderOptions): VigilBlock[] {
  const group = options.group;
  const blocks: VigilBlock[] = [header(`${view.emoji} ${view.label} · ${view.title}`)];
  if (view.summary.trim()) blocks.push(section(esc(view.summary)));

  const fields: string[] = [];
  if (view.actor) {
    const who = [`${esc(view.actorName ?? view.actor)}${view.actorType ? ` (${esc(view.actorType)})` : ''}`];
    if (view.actorName !== view.actor) who.push(esc(view.actor));
    if (view.account) who.push(`account ${esc(view.account)}`);
    fields.push(`*Who*\n${who.join('\n')}`);
  } else if (view.account) {
    fields.push(`*Account*\n${esc(view.account)}`);
  }
  if (view.from) fields.push(`*From where*\n${esc(view.from)}`);
  if (view.what) fields.push(`*What*\n${esc(view.what)}`);
  else if (view.region) fields.push(`*Region*\n${esc(view.region)}`);
  fields.push(`*When*\n${view.whenUtc}${view.whenOffice ? `\n${esc(view.whenOffice)}` : ''}`);
  fields.push(`*How many*\n${howMany(view, group)}`);
  fields.push(`*Rule*\n${code(view.ruleId)}${view.categories.length ? `\n${esc(view.categories.join(', '))}` : ''}`);
  blocks.push(fieldsSection(fields));

  blocks.push(...ipSpaceBlocks(view, options.maxCidrs ?? DEFAULT_MAX_CIDRS));

  if (view.details.length > 0) {
    const lines = view.details.slice(0, 12).map(([k, v]) => `*${esc(k)}*: ${esc(v)}`);
    if (view.details.length > 12) lines.push(`… ${view.details.length - 12} more in the alert JSON`);
    blocks.push(section(lines.join('\n')));
  }

  const links: string[] = [];
  if (view.consoleUrl) links.push(`:mag: ${link(view.consoleUrl, 'CloudTrail event history')}`);
  const runbookUrl = view.runbook && /^https?:\/\/\S+$/.test(view.runbook) ? view.runbook : undefined;
  if (runbookUrl) links.push(`:book: ${link(runbookUrl, 'Runbook')}`);
  // A runbook written out as steps (or a path in the docs) is read, not clicked: its own section.
  if (view.runbook && !runbookUrl) blocks.push(section(`:book: *Runbook*\n${esc(clip(view.runbook, 1500))}`));
  if (links.length > 0) blocks.push(context(links));

  const footer: string[] = [];
  // CloudTrail alerts point at their log file; others (the ip-ranges snapshot) at their source object.
  if (view.evidence) footer.push(`${view.what ? 'Log' : 'Source'}: ${code(view.evidence)}`);
  footer.push(`Alert ${code(view.id)}`);
  if (group?.openUntil) {
    footer.push(
      `:repeat: more alerts with this key until ${formatUtc(group.openUntil)} ${
        group.mode === 'rollup' ? 'are summed up in one follow-up' : 'update this count'
      }`,
    );
  }
  blocks.push(context(footer));
  return blocks;
}

function fallbackText(view: AlertView, count: number): string {
  const parts = [`${view.emoji} ${view.label}: ${view.title}`];
  if (view.actor) parts.push(`by ${view.actorName ?? shortActor(view.actor)}`);
  if (view.account) parts.push(`in ${view.account}`);
  if (count > 1) parts.push(`(×${count})`);
  return clip(esc(parts.join(' ')), 3000);
}

function finish(message: SlackMessage): SlackMessage {
  const issues = blockKitIssues(message);
  if (issues.length > 0) {
    // A renderer bug, not bad input from Slack's point of view: say which limit so it can be fixed.
    throw new ValidationError(
      `rendered Slack message violates Block Kit limits: ${issues
        .slice(0, 3)
        .map((i) => `${i.path || '(message)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return message;
}

/** The Slack post for one alert (or for the group it opened, with the group's count). */
export function renderSlackAlert(alert: Alert, options: SlackRenderOptions = {}): SlackMessage {
  const view = viewAlert(alert, options);
  return finish({
    text: fallbackText(view, options.group?.count ?? view.count),
    attachments: [{ color: view.color, fallback: fallbackText(view, options.group?.count ?? view.count), blocks: alertBlocks(view, options) }],
    unfurl_links: false,
    unfurl_media: false,
  });
}

/**
 * Webhook-only grouping: incoming webhooks cannot edit a post, so the end of a window adds one short roll-up
 * ("+N more of …", with the latest alert's title and summary) instead of N more full posts.
 */
export function renderSlackRollup(
  alert: Alert,
  rollup: { more: number; moreAlerts: number; group: GroupSummary },
  options: DisplayOptions = {},
): SlackMessage {
  const view = viewAlert(alert, options);
  const { group } = rollup;
  const text = `${view.emoji} +${rollup.more} more of ${view.label}: ${view.title}`;
  const blocks: VigilBlock[] = [
    section(
      `*+${rollup.more} more* (${rollup.moreAlerts} alert${rollup.moreAlerts === 1 ? '' : 's'}) like the post above` +
        `${view.account ? ` in account ${esc(view.account)}` : ''}.\n` +
        `Latest: *${esc(view.title)}*${view.summary.trim() ? ` — ${esc(clip(view.summary, 500))}` : ''}\n` +
        `Total *${group.count}* in ${group.alerts} alerts, first ${formatUtc(group.firstSeen)}, last ${formatUtc(group.lastSeen)}.`,
    ),
    context([`Rule ${code(view.ruleId)}`, `Key ${code(clip(view.dedupKey, 200))}`]),
  ];
  return finish({
    text: clip(esc(text), 3000),
    attachments: [{ color: view.color, fallback: clip(esc(text), 3000), blocks }],
    unfurl_links: false,
    unfurl_media: false,
  });
}
