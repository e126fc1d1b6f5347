import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts/schema';
import { silentLogger } from '../../shared/core/deps';
import { applyFlapping } from '../../shared/ip-ranges/flapping';
import { md5Hex } from '../../shared/ip-ranges/load';
import { parseIpSpaceChangedMessage } from '../../shared/ip-ranges/notification';
import { syncIpRanges } from '../../shared/ip-ranges/sync';
import { type LocalS3, startS3 } from '../support/s3rver';

const H = 3_600_000;
const T0 = Date.parse('2026-08-01T00:00:00Z');
const at = (hours: number) => ({ at: new Date(T0 + hours * H), syncToken: String(T0 / 1000 + hours * 3600) });
const ADD = { cidr: '1.178.86.0/24', before: '', after: 'EC2@ap-east-2/ap-east-2' };
const REMOVE = { cidr: '1.178.86.0/24', before: 'EC2@ap-east-2/ap-east-2', after: '' };

describe('applyFlapping', () => {
  it('alerts a first change, marks the first flap, suppresses further flaps for the window, then alerts once more', () => {
    let h = {};
    const step = (hours: number, change: typeof ADD) => {
      const out = applyFlapping(h, [change], at(hours), 72);
      h = out.history;
      return out.decisions.get(change.cidr);
    };
    expect(step(0, ADD)).toEqual({ flapping: false, suppressed: false });
    expect(step(8, REMOVE)).toEqual({ flapping: true, suppressed: false }); // the first flap is alerted, marked
    expect(step(16, ADD)).toEqual({ flapping: true, suppressed: true });
    expect(step(24, REMOVE)).toEqual({ flapping: true, suppressed: true });
    expect(step(79, ADD)).toEqual({ flapping: true, suppressed: true }); // 71 h after the flap alert
    expect(step(81, REMOVE)).toEqual({ flapping: true, suppressed: false }); // 73 h: alerted once more
  });

  it('does not call a change flapping when the CIDR was stable for longer than the window', () => {
    const first = applyFlapping({}, [ADD], at(0), 72);
    const later = applyFlapping(first.history, [REMOVE], at(100), 72);
    expect(later.decisions.get(ADD.cidr)).toEqual({ flapping: false, suppressed: false });
    // History older than the window is pruned, so the pointer stays small.
    const pruned = applyFlapping(later.history, [], at(200), 72);
    expect(pruned.history).toEqual({});
  });

  it('treats a move back to the previous region as a flap too, and is deterministic for a re-processed version', () => {
    const moveA = { cidr: '2600:1f10:8000::/36', before: 'EC2@us-east-1/us-east-1-wl1-bos-wlz-1', after: 'EC2@us-south-1/us-south-1' };
    const moveB = { cidr: moveA.cidr, before: moveA.after, after: moveA.before };
    const one = applyFlapping({}, [moveA], at(0), 24);
    const two = applyFlapping(one.history, [moveB], at(2), 24);
    expect(two.decisions.get(moveA.cidr)?.flapping).toBe(true);
    expect(applyFlapping(one.history, [moveB], at(2), 24)).toEqual(two);
  });
});

/** A tiny synthetic ip-ranges.json; `extra` CIDRs come and go. */
function doc(hours: number, extra: string[]): Buffer {
  const { syncToken } = at(hours);
  const d = new Date(T0 + hours * H);
  const p = (n: number) => String(n).padStart(2, '0');
  const createDate = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
  const entry = (prefix: string) => ({ ip_prefix: prefix, region: 'ap-east-2', service: 'EC2', network_border_group: 'ap-east-2' });
  return Buffer.from(
    JSON.stringify({ syncToken, createDate, prefixes: [entry('18.166.0.0/15'), ...extra.map(entry)], ipv6_prefixes: [] }, null, 2),
  );
}

describe('flapping through syncIpRanges (s3rver)', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket('flaps');
  });
  afterAll(async () => s3?.stop());

  it('alerts 1.178.86.0/24 once as added, once as flapping, then only other changes', async () => {
    const alerts: Alert[] = [];
    let body: Buffer = Buffer.alloc(0);
    const deps = {
      logger: silentLogger,
      clock: { now: () => new Date(T0 + 200 * H) },
      fetch: (async () => new Response(body, { headers: { 'content-length': String(body.length) } })) as typeof fetch,
      s3: s3.client,
      bucket: 'flaps',
      publish: async (a: Alert) => void alerts.push(a),
      config: async () => ({ watch: [{ service: 'EC2', region: 'ap-east-2' }], flappingWindowHours: 72, maxCidrsInAlert: 50, severity: 'low' as const }),
      account: '123456789012',
    };
    const version = async (hours: number, extra: string[]) => {
      body = doc(hours, extra);
      const { syncToken } = at(hours);
      const message = parseIpSpaceChangedMessage(
        JSON.stringify({ 'create-time': '2026-08-01-00-00-00', synctoken: syncToken, md5: md5Hex(body), url: 'https://ip-ranges.amazonaws.com/ip-ranges.json' }),
      );
      return syncIpRanges({ kind: 'notification', message }, deps);
    };
    await version(0, []); // first version
    expect(await version(8, ['1.178.86.0/24'])).toMatchObject({ status: 'stored', flapping: [], suppressedFlapping: [] });
    expect(alerts).toHaveLength(1);
    expect(await version(16, [])).toMatchObject({ flapping: ['1.178.86.0/24'], suppressedFlapping: [] });
    expect(alerts).toHaveLength(2);
    expect(alerts[1]?.summary).toMatch(/Flapping .*1\.178\.86\.0\/24/);
    expect(alerts[1]?.context.flapping).toEqual(['1.178.86.0/24']);
    // Back again 8 h later: flapping and already alerted → no alert at all.
    expect(await version(24, ['1.178.86.0/24'])).toMatchObject({ flapping: [], suppressedFlapping: ['1.178.86.0/24'] });
    expect(alerts).toHaveLength(2);
    // Another CIDR changes while 1.178.86.0/24 flaps again: one alert, without the flapping CIDR.
    expect(await version(32, ['16.162.0.0/16'])).toMatchObject({ suppressedFlapping: ['1.178.86.0/24'] });
    expect(alerts).toHaveLength(3);
    expect(alerts[2]?.context.cidrs).toMatchObject({ ipv4: { added: { cidrs: ['16.162.0.0/16'] }, removed: { cidrs: [] } } });
    expect(alerts[2]?.context.suppressedFlapping).toEqual(['1.178.86.0/24']);
  });
});
