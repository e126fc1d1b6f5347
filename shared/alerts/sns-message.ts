import type { Alert } from './schema';

const severityLabel: Record<Alert['severity'], string> = {
  info: 'INFO',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
};

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** SNS subjects are limited to 100 characters, ASCII-printable, no newlines; email clients show them first. */
export function snsSubject(alert: Alert): string {
  const count = alert.count > 1 ? ` (x${alert.count})` : '';
  const where = alert.account ? ` [${alert.account}]` : '';
  const raw = `[${severityLabel[alert.severity]}] ${alert.title}${count}${where}`;
  return clip(raw.replace(/[^\x20-\x7e]/g, '?'), 99);
}

/** Plain text for email: what happened first, then who/where/when, then the evidence. */
export function snsText(alert: Alert): string {
  const lines = [
    `${severityLabel[alert.severity]}: ${alert.title}`,
    alert.summary,
    '',
    alert.actor ? `Who: ${alert.actor}` : undefined,
    `Account: ${alert.account || '-'}   Region: ${alert.region || '-'}`,
    alert.sourceIp ? `From: ${alert.sourceIp}` : undefined,
    alert.eventName ? `What: ${alert.eventSource ?? ''} ${alert.eventName}`.trim() : undefined,
    `When: ${alert.eventTime}${alert.count > 1 ? `   Count: ${alert.count}` : ''}`,
    alert.firstSeen && alert.lastSeen && alert.firstSeen !== alert.lastSeen
      ? `First/last seen: ${alert.firstSeen} / ${alert.lastSeen}`
      : undefined,
    `Rule: ${alert.ruleId}   Categories: ${alert.categories.join(', ') || '-'}`,
    alert.runbook ? `Runbook: ${alert.runbook}` : undefined,
    alert.source ? `Evidence: ${alert.source.bucket ? `s3://${alert.source.bucket}/` : ''}${alert.source.key}` : undefined,
    `Alert id: ${alert.id}`,
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n');
}

/** SMS: one short line, most important first. */
export function snsSms(alert: Alert): string {
  return clip(`vigil ${severityLabel[alert.severity]}: ${alert.title}${alert.account ? ` @${alert.account}` : ''}`, 140);
}
