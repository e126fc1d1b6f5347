import { type AlertView, type DisplayOptions, shortActor as shortActorName, truncateList, viewAlert } from './display';
import type { Alert } from './schema';

/**
 * Text renderers for people reading SNS deliveries: the email Subject, the email body and the SMS. They share the
 * facts of display.ts with the Slack renderer. `options` (office timezone, account names) is optional so publishers
 * without the notify configuration still produce a complete message.
 */

/** SNS rejects subjects that are not ASCII-printable or that contain line breaks. */
const ascii = (text: string) => text.replace(/[\r\n\t]+/g, ' ').replace(/[–—]/g, '-').replace(/[^\x20-\x7e]/g, '?');

const SUBJECT_MAX = 99;

const asciiClip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`);

/**
 * "HIGH: CloudTrail logging stopped by alice in 123456789012 (prod) (x3)": severity and what happened first, so a
 * truncated subject in a mail client or pager still says it; under 100 characters, ASCII, one line.
 */
export function snsSubject(alert: Alert, options: DisplayOptions = {}): string {
  const view = viewAlert(alert, options);
  const head = `${view.label}: `;
  const count = alert.count > 1 ? ` (x${alert.count})` : '';
  const actor = view.actor ? ` by ${shortActor(view.actorName ?? view.actor)}` : '';
  const where = view.account ? ` in ${view.account}` : '';
  const title = ascii(view.title).trim();
  // Keep the whole title if at all possible; who and where are dropped before it is cut.
  for (const tail of [`${actor}${where}${count}`, `${where}${count}`, count]) {
    const text = ascii(`${head}${title}${tail}`);
    if (text.length <= SUBJECT_MAX) return text;
  }
  return `${head}${asciiClip(title, SUBJECT_MAX - head.length - count.length)}${count}`;
}

const shortActor = (actor: string) => asciiClip(shortActorName(actor), 40);

function line(label: string, value: string | undefined): string | undefined {
  return value ? `${`${label}:`.padEnd(9)}${value}` : undefined;
}

function ipSpaceLines(view: AlertView, maxCidrs: number): string[] {
  const ip = view.ipSpace;
  if (!ip) return [];
  const out: string[] = [''];
  const nonZero = ip.counts.filter(([, n]) => n !== 0);
  if (ip.counts.length > 0) {
    out.push(`Changes: ${(nonZero.length > 0 ? nonZero : ip.counts).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', ')}`);
  }
  if (ip.byService) out.push(`By service: ${ip.byService}`);
  if (ip.version) out.push(`Version: ${ip.version}`);
  if (ip.flapping.length > 0) out.push(`Flapping: ${ip.flapping.slice(0, 10).join(', ')}${ip.flapping.length > 10 ? ' ...' : ''}`);
  for (const [label, list, total] of [
    ['Added CIDRs', ip.added, ip.addedTotal],
    ['Removed CIDRs', ip.removed, ip.removedTotal],
  ] as const) {
    if (total === 0 && list.length === 0) continue;
    const { shown } = truncateList(list, maxCidrs);
    const more = Math.max(total, list.length) - shown.length;
    out.push(`${label} (${Math.max(total, list.length)}):`, ...shown.map((c) => `  ${c}`));
    if (more > 0) out.push(`  ... and ${more} more`);
  }
  return out;
}

/** Plain text for email: what happened, then who/where/what/when/how many, then the links and the evidence. */
export function snsText(alert: Alert, options: DisplayOptions = {}): string {
  const view = viewAlert(alert, options);
  const when = view.whenOffice ? `${view.whenUtc} / ${view.whenOffice}` : view.whenUtc;
  const howMany =
    view.count > 1 || view.firstSeenUtc
      ? `${view.count}${view.firstSeenUtc ? ` (first ${view.firstSeenUtc}, last ${view.lastSeenUtc})` : ''}`
      : undefined;
  const lines = [
    `${view.label}: ${view.title}`,
    view.summary || undefined,
    '',
    line(
      view.actor ? 'Who' : 'Account',
      [
        view.actor && `${view.actorName ?? view.actor}${view.actorType ? ` (${view.actorType})` : ''}`,
        view.actor !== view.actorName ? view.actor : undefined,
        view.account && (view.actor ? `account ${view.account}` : view.account),
      ]
        .filter(Boolean)
        .join(', ') || undefined,
    ),
    line('From', view.from),
    line('What', view.what ?? (view.region ? `region ${view.region}` : undefined)),
    line('When', when),
    line('Count', howMany),
    line('Console', view.consoleUrl),
    line('Runbook', view.runbook),
    line(view.what ? 'Log' : 'Source', view.evidence),
    ...ipSpaceLines(view, 20),
    ...(view.details.length > 0 ? ['', ...view.details.slice(0, 15).map(([k, v]) => `${k}: ${v}`)] : []),
    '',
    `Rule: ${view.ruleId}${view.categories.length ? ` (${view.categories.join(', ')})` : ''}`,
    `Alert id: ${view.id}`,
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n');
}

/** SMS: one line, ASCII (a non-GSM character would halve the segment to 70), most important first. */
export function snsSms(alert: Alert, options: DisplayOptions = {}): string {
  const view = viewAlert(alert, options);
  const accountName = view.account?.match(/\(([^)]+)\)$/)?.[1] ?? (alert.account || undefined);
  const parts = [
    `vigil ${view.label}: ${view.title}`,
    accountName ? `@${accountName}` : undefined,
    view.actor ? `by ${shortActor(view.actorName ?? view.actor)}` : undefined,
    alert.count > 1 ? `x${alert.count}` : undefined,
  ];
  return asciiClip(ascii(parts.filter(Boolean).join(' ')), 140);
}
