import type { SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { SlackMessageSchema, type SlackMessage, blockKitIssues, limits } from '../../shared/alerts/block-kit';
import { renderSlackAlert, renderSlackRollup } from '../../shared/alerts/slack-message';
import { alertFixture, alertFixtureNames } from './fixtures';

const display = { officeTimezone: 'Europe/Paris', accountNames: { '111122223333': 'prod' } };

/** All the mrkdwn/plain text of a message, for content assertions. */
function textOf(message: SlackMessage): string {
  const parts: string[] = [message.text];
  const blocks = [...(message.blocks ?? []), ...(message.attachments ?? []).flatMap((a) => a.blocks)];
  for (const b of blocks) {
    if (b.type === 'header') parts.push(b.text.text);
    if (b.type === 'section') {
      if (b.text) parts.push(b.text.text);
      for (const f of b.fields ?? []) parts.push(f.text);
    }
    if (b.type === 'context') for (const e of b.elements) if ('text' in e) parts.push(e.text);
  }
  return parts.join('\n');
}

describe('Slack Block Kit rendering', () => {
  it.each(alertFixtureNames)('renders %s as a valid Block Kit message', (name) => {
    const message = renderSlackAlert(alertFixture(name), display);
    expect(blockKitIssues(message)).toEqual([]);
    expect(SlackMessageSchema.parse(message)).toEqual(message);
    // The colour bar needs an attachment; its blocks carry the content.
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments?.[0]?.blocks[0]?.type).toBe('header');
    expect(message.unfurl_links).toBe(false);
  });

  it('a CloudTrail alert shows severity, title, summary, who, from where, what, when, how many and the links', () => {
    const message = renderSlackAlert(alertFixture('cloudtrail-stop-logging'), display);
    const text = textOf(message);
    expect(message.attachments?.[0]?.color).toBe('#B00020');
    expect(text).toContain(':red_circle: CRITICAL · CloudTrail logging stopped');
    expect(text).toContain('alice called StopLogging on trail management-events');
    expect(text).toContain('*Who*\nalice (iam-user)\narn:aws:iam::111122223333:user/alice\naccount 111122223333 (prod)');
    expect(text).toContain('*From where*\n203.0.113.7 — outside allowed CIDRs');
    expect(text).toContain('*What*\nStopLogging · cloudtrail.amazonaws.com · us-east-1');
    expect(text).toContain('*When*\n2026-08-12 14:03:22 UTC\n2026-08-12 16:03:22 CEST (Europe/Paris)');
    expect(text).toContain('*How many*\n*1*');
    expect(text).toContain(
      '<https://us-east-1.console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/3f0c8b0e-5b1a-4c2d-9e8f-0a1b2c3d4e5f|CloudTrail event history>',
    );
    expect(text).toContain('<https://runbooks.example.com/cloudtrail-tampering|Runbook>');
    expect(text).toContain(
      'Log: `s3://org-cloudtrail-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/08/12/111122223333_CloudTrail_us-east-1_20260812T1405Z_Xb3kQ9pLm2Zt.json.gz`',
    );
  });

  it('escapes attacker-controlled text, so a user agent cannot @channel the room', () => {
    const text = textOf(renderSlackAlert(alertFixture('cloudtrail-stop-logging'), display));
    expect(text).toContain('exe/x86_64 &lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
  });

  it('an AWS-owned source says which service and region own it, and counts carry first/last seen', () => {
    const text = textOf(renderSlackAlert(alertFixture('cloudtrail-aws-owned'), display));
    expect(text).toContain('52.94.133.131 — AWS-owned: EC2 us-west-2 (52.94.128.0/18); within allowed CIDRs');
    expect(text).toContain('*How many*\n*3*\nfirst 2026-08-12 22:38:40 UTC\nlast 2026-08-12 22:41:05 UTC');
    // The office timezone shows the local date when it differs from UTC's.
    expect(text).toContain('2026-08-13 00:41:05 CEST (Europe/Paris)');
    // No account name configured and the profile is "default": the ID alone.
    expect(text).toContain('account 444455556666\n');
  });

  it('an IP-space alert shows the counts, the version and the changed CIDRs truncated with the exact totals', () => {
    const message = renderSlackAlert(alertFixture('ip-space-changed'), display);
    const text = textOf(message);
    expect(text).toContain('*Changes* v4 added *140* · v4 removed *3* · v4 cidrs added *132* · v4 cidrs removed *3*');
    expect(text).not.toContain('v6 added'); // zero counts are left out
    expect(text).toContain('*By service* EC2 +130/−3, CLOUDFRONT +10/−0');
    expect(text).toContain('*Version* 1723420811 (2024-08-12-01-20-11) → 1723470000 (2024-08-12-13-40-12)');
    expect(text).toContain('*Added CIDRs (132)*\n```3.0.0.0/24\n');
    expect(text).toContain('3.0.14.0/24```\n… and 117 more');
    expect(text).toContain('*Removed CIDRs (3)*\n```13.248.118.0/24\n15.230.39.0/24\n52.95.255.64/28```');
    expect(text).toContain('*Flapping* 1.178.86.0/24');
    // Internal bookkeeping of the pipeline is not dumped into the message.
    expect(text).not.toContain('allCounts');
    expect(text).not.toContain('byRegion');
  });

  it('a huge IP-space change still fits the section limits', () => {
    const base = alertFixture('ip-space-changed');
    const many = Array.from({ length: 5000 }, (_, i) => `2600:1f${(i % 256).toString(16)}:${i.toString(16)}::/56`);
    const alert = {
      ...base,
      context: { ...base.context, cidrs: { ipv6: { added: { cidrs: many, total: 5000, truncated: false } } } },
    };
    const message = renderSlackAlert(alert, { ...display, maxCidrs: 500 });
    expect(blockKitIssues(message)).toEqual([]);
    const section = message.attachments?.[0]?.blocks.find(
      (b): b is SectionBlock => b.type === 'section' && Boolean(b.text?.text.startsWith('*Added CIDRs (5000)*')),
    );
    const body = section?.text?.text ?? '';
    expect(body.length).toBeLessThanOrEqual(limits.sectionText);
    // Whole CIDRs only, and the "more" count is exact for what is not visible.
    const visible = /```([^`]*)```/.exec(body)?.[1]?.split('\n') ?? [];
    expect(visible.length).toBeGreaterThan(50);
    expect(visible.every((c) => many.includes(c))).toBe(true);
    expect(body).toMatch(new RegExp(`\`\`\`\\n… and ${5000 - visible.length} more$`));
  });

  it('a migration progress (info) alert renders its account, region and details', () => {
    const text = textOf(renderSlackAlert(alertFixture('migration-progress'), display));
    expect(text).toContain(':white_circle: INFO · Migration of vg_data on i-0123456789abcdef0: 50% moved');
    expect(text).toContain('*Account*\n111122223333 (prod)');
    expect(text).toContain('*Region*\neu-west-1');
    expect(text).toContain('*instanceId*: i-0123456789abcdef0');
    expect(text).toContain('*percent*: 50');
    expect(text).toContain('*target*: {"volumeType":"gp3","sizeGiB":500,"iops":6000,"throughputMiBps":250}');
    // A runbook that is a path in the repository, not a URL, is shown as text.
    expect(text).toContain(':book: *Runbook*\ndocs/migration.md');
    expect(text).not.toContain('CloudTrail event history');
  });

  it('clips every text to its Block Kit limit instead of producing a payload Slack would reject', () => {
    const base = alertFixture('cloudtrail-stop-logging');
    const alert = {
      ...base,
      title: 'T'.repeat(500),
      summary: `${'& <b> '.repeat(2000)}`,
      actor: `arn:aws:iam::111122223333:user/${'x'.repeat(3000)}`,
      context: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, 'v'.repeat(1000)])),
    };
    const message = renderSlackAlert(alert, display);
    expect(blockKitIssues(message)).toEqual([]);
    const header = message.attachments?.[0]?.blocks[0];
    expect(header?.type === 'header' && header.text.text.length).toBe(limits.headerText);
    // No half-escaped entity at a cut.
    expect(textOf(message)).not.toMatch(/&(?:a|am|l|g)?…/);
  });

  it('a grouped post shows the window count, first/last seen and how later alerts show up', () => {
    const alert = alertFixture('cloudtrail-stop-logging');
    const group = {
      count: 57,
      alerts: 12,
      firstSeen: '2026-08-12T14:01:02Z',
      lastSeen: '2026-08-12T14:09:55Z',
      openUntil: '2026-08-12T14:13:22Z',
    };
    const edit = textOf(renderSlackAlert(alert, { ...display, group: { ...group, mode: 'edit' } }));
    expect(edit).toContain('*How many*\n*57* in 12 alerts\nfirst 2026-08-12 14:01:02 UTC\nlast 2026-08-12 14:09:55 UTC');
    expect(edit).toContain('until 2026-08-12 14:13:22 UTC update this count');
    expect(edit).toContain('(×57)');
    const rollup = textOf(renderSlackAlert(alert, { ...display, group: { ...group, mode: 'rollup' } }));
    expect(rollup).toContain('are summed up in one follow-up');
  });

  it('the webhook roll-up is one short valid message', () => {
    const message = renderSlackRollup(
      alertFixture('cloudtrail-stop-logging'),
      {
        more: 56,
        moreAlerts: 11,
        group: { count: 57, alerts: 12, firstSeen: '2026-08-12T14:01:02Z', lastSeen: '2026-08-12T14:09:55Z' },
      },
      display,
    );
    expect(blockKitIssues(message)).toEqual([]);
    expect(message.text).toBe(':red_circle: +56 more of CRITICAL: CloudTrail logging stopped');
    expect(textOf(message)).toContain('*+56 more* (11 alerts) like the post above in account 111122223333 (prod).');
    expect(textOf(message)).toContain('Latest: *CloudTrail logging stopped* — alice called StopLogging on trail');
    expect(textOf(message)).toContain('Total *57* in 12 alerts');
  });
});

describe('Block Kit limits schema', () => {
  const ok = () => renderSlackAlert(alertFixture('cloudtrail-stop-logging'), display);

  it('rejects a header over 150 characters', () => {
    const m = ok();
    const header = m.attachments![0]!.blocks[0]!;
    if (header.type === 'header') header.text.text = 'x'.repeat(151);
    expect(blockKitIssues(m).map((i) => i.path)).toEqual(['attachments.0.blocks.0.text.text']);
  });

  it('rejects more than 10 fields, an empty text and more than 50 blocks', () => {
    const fields = { type: 'section' as const, fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn' as const, text: 'a' })) };
    expect(blockKitIssues({ text: 'x', blocks: [fields] })).not.toEqual([]);
    expect(blockKitIssues({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '' } }] })).not.toEqual([]);
    const many = Array.from({ length: 51 }, () => ({ type: 'divider' as const }));
    expect(blockKitIssues({ text: 'x', blocks: many })).not.toEqual([]);
    expect(blockKitIssues({ text: 'x', blocks: many.slice(0, 50) })).toEqual([]);
  });

  it('rejects unknown properties, a section with neither text nor fields, and a bad colour', () => {
    expect(blockKitIssues({ text: 'x', blocks: [{ type: 'divider', extra: 1 }] })).not.toEqual([]);
    expect(blockKitIssues({ text: 'x', blocks: [{ type: 'section' }] })).not.toEqual([]);
    expect(blockKitIssues({ text: 'x', attachments: [{ color: 'red', blocks: [{ type: 'divider' }] }] })).not.toEqual([]);
  });
});
