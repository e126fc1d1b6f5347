import { describe, expect, it } from 'vitest';
import { blockKitIssues } from '../../shared/alerts/block-kit';
import { Alert } from '../../shared/alerts/schema';
import { renderSlackAlert } from '../../shared/alerts/slack-message';
import { snsSms, snsSubject, snsText } from '../../shared/alerts/sns-message';
import { configFromYaml } from '../support/config';
import { buildIpSpaceAlert } from '../../shared/ip-ranges/alert';
import { diffIpRanges } from '../../shared/ip-ranges/diff';
import { loadIpRangesFile } from '../../shared/ip-ranges/load';
import { runCli } from '../support/cli';
import { cloudtrailDir, ipRangesFile } from '../support/shared-data';

/**
 * The contract with the pipelines: what they really emit (the CloudTrail engine over the shared Stratus Red Team logs,
 * the IP-space alert over two real ip-ranges.json versions) renders into valid Slack and SNS messages that carry the
 * facts the pipelines put in. A change of context keys on either side shows up here.
 */

async function scanNdjson(dir: string): Promise<Alert[]> {
  const { stdout } = await runCli(['scan', '--format', 'ndjson', dir]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => Alert.parse(JSON.parse(l)));
}

describe('rendering what the pipelines really emit', () => {
  it('CloudTrail scan alerts of the Stratus Red Team logs', async () => {
    const alerts = await scanNdjson(cloudtrailDir('stratus-delivery'));
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      const message = renderSlackAlert(alert, { officeTimezone: 'Europe/Paris' });
      expect(blockKitIssues(message)).toEqual([]);
      const json = JSON.stringify(message);
      expect(json).toContain(alert.eventName as string);
      expect(json).toContain('*Who*');
      expect(json).toContain('*From where*');
      expect(json).toContain(alert.source?.key as string);
      expect(snsSubject(alert).length).toBeLessThan(100);
      expect(snsSms(alert).length).toBeLessThanOrEqual(140);
      expect(snsText(alert).split('\n')[0]).toBe(`${alert.severity.toUpperCase()}: ${alert.title}`);
    }
    const tampering = alerts.find((a) => a.ruleId === 'cloudtrail-tampering' && a.eventName === 'StopLogging');
    expect(tampering).toBeDefined();
    const text = JSON.stringify(renderSlackAlert(tampering as Alert));
    expect(text).toContain('christophe (iam-user)');
    expect(text).toContain('AWS ownership unknown (no ip-ranges snapshot)');
  });

  it('an IP-space alert over two real ip-ranges.json versions', async () => {
    const [older, newer] = await Promise.all([
      loadIpRangesFile(ipRangesFile('2026-01-29-19-18-05')),
      loadIpRangesFile(ipRangesFile('2026-01-29-21-08-05')),
    ]);
    const config = configFromYaml('ipSpace: {}', 'test').ipSpace;
    const all = diffIpRanges(older.ranges, newer.ranges);
    const alert = buildIpSpaceAlert({
      watched: all,
      allCounts: all.counts,
      flapping: [],
      suppressed: [],
      config,
      account: '111122223333',
      snapshot: { bucket: 'vigil-prod-ip-ranges', key: `ip-ranges/${newer.ranges.syncToken}.json` },
    });
    const message = renderSlackAlert(alert);
    expect(blockKitIssues(message)).toEqual([]);
    const json = JSON.stringify(message);
    expect(json).toContain('*Changes*');
    expect(json).toContain(`→ ${newer.ranges.syncToken} (${newer.ranges.createDate})`);
    const c = all.counts;
    if (c.v4_cidrs_added + c.v6_cidrs_added > 0) expect(json).toMatch(/\*Added CIDRs \(\d+\)\*/);
    if (c.v4_cidrs_removed + c.v6_cidrs_removed > 0) expect(json).toMatch(/\*Removed CIDRs \(\d+\)\*/);
    expect(json).not.toContain('allCounts');
    expect(snsText(alert)).toContain('Changes: ');
  });
});
