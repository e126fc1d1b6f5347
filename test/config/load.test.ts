import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, readConfigDocument } from '../../shared/config/load';
import { defaultConfig, parseConfigJson } from '../../shared/config/parse';
import { repoRoot } from '../support/shared-data';

describe('configuration documents', () => {
  it('reads YAML and JSON to the same configuration', async () => {
    const yaml = await parseConfig('detection:\n  expectedRegions: [eu-central-1]\n', 'a.yaml');
    const json = await parseConfig('{"detection": {"expectedRegions": ["eu-central-1"]}}', 'a.json');
    expect(yaml).toEqual(json);
    expect(yaml.detection.expectedRegions).toEqual(['eu-central-1']);
  });

  it('treats an empty document as all defaults, and keeps the document as written apart from its validated form', async () => {
    expect(await parseConfig('', 'empty.yaml')).toEqual(defaultConfig());
    const { document, config } = await readConfigDocument('ipSpace: { flappingWindowHours: 24 }', 'c.yaml');
    expect(document).toEqual({ ipSpace: { flappingWindowHours: 24 } });
    expect(config.ipSpace.flappingWindowHours).toBe(24);
    expect(config.notify.defaultChannels).toEqual(['default']);
  });

  it('names the file and the field of an error', async () => {
    await expect(parseConfig('detection: { alertWindowMinutes: 0 }', 'c.yaml')).rejects.toThrow(/^c\.yaml: invalid configuration: detection\.alertWindowMinutes/);
    await expect(parseConfig('detection: [unclosed', 'c.yaml')).rejects.toThrow(/^c\.yaml: not valid YAML\/JSON/);
    await expect(loadConfigFile(`${repoRoot}/no-such.yaml`)).rejects.toThrow(/cannot read configuration .*no-such\.yaml: ENOENT/);
    // YAML's alias expansion is bounded (a "billion laughs" document is refused, not expanded).
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    await expect(parseConfig(laughs, 'laughs.yaml')).rejects.toThrow(/laughs\.yaml: not valid YAML\/JSON: .*[Aa]lias/);
  });

  it('the functions read JSON only, and say how to store a YAML document', () => {
    expect(parseConfigJson('{"detection": {"expectedRegions": ["eu-west-1"]}}', 'ssm:/vigil/dev/config').detection.expectedRegions).toEqual(['eu-west-1']);
    expect(() => parseConfigJson('detection:\n  expectedRegions: [eu-west-1]\n', 'ssm:/vigil/dev/config')).toThrow(
      /ssm:\/vigil\/dev\/config: not a JSON document .*vigil config push FILE --stage STAGE/,
    );
  });
});
