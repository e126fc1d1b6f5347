/**
 * Renders CloudFormation intrinsic functions (and serverless variables) inside policy documents into plain strings
 * the analyzer can read. Values that are only known at deploy time become markers `{{Name}}` — `Ref X` → `{{X}}`,
 * `!GetAtt Role.Arn` → `{{Role.Arn}}`, `${AWS::AccountId}` in a `!Sub` → `{{AWS.AccountId}}` — with `::` and `:`
 * turned into `.` so an ARN still splits into its six fields. A marker never contains `*`, so a reference to a
 * resource is never mistaken for a wildcard; the one marker the analyzer interprets is `{{AWS.AccountId}}` (the
 * template's own account).
 *
 * `Fn::If` keeps both branches (a policy is reviewed for every condition value): inside a list the branches are
 * spliced in, elsewhere a value becomes the list of its branches. `AWS::NoValue` drops the item.
 */

const noValue = Symbol('AWS::NoValue');
type Rendered = unknown;

const markerName = (name: string): string => name.replaceAll('::', '.').replaceAll(':', '.');
export const marker = (name: string): string => `{{${markerName(name)}}}`;

const isIntrinsicKey = (key: string): boolean => key === 'Ref' || key.startsWith('Fn::') || key === 'Condition';

class Branches {
  constructor(readonly values: Rendered[]) {}
}

/** `arn:${AWS::Partition}:s3:::${Bucket}/*` with `${!Literal}` kept literally as `${Literal}`. */
function renderSub(template: string, vars: Record<string, Rendered>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf('${', i);
    if (start < 0) break;
    const end = template.indexOf('}', start + 2);
    if (end < 0) break;
    out += template.slice(i, start);
    const name = template.slice(start + 2, end);
    if (name.startsWith('!')) out += `\${${name.slice(1)}}`;
    else {
      const bound = Object.hasOwn(vars, name) ? vars[name] : undefined;
      out += typeof bound === 'string' ? bound : marker(name);
    }
    i = end + 1;
  }
  return out + template.slice(i);
}

function renderIntrinsic(key: string, arg: unknown): Rendered {
  switch (key) {
    case 'Ref':
      return arg === 'AWS::NoValue' ? noValue : marker(String(arg));
    case 'Fn::Sub': {
      if (typeof arg === 'string') return renderSub(arg, {});
      if (Array.isArray(arg) && typeof arg[0] === 'string') {
        const vars = arg[1] !== null && typeof arg[1] === 'object' ? (render(arg[1]) as Record<string, Rendered>) : {};
        return renderSub(arg[0], vars);
      }
      return marker('Fn::Sub');
    }
    case 'Fn::GetAtt': {
      const parts = typeof arg === 'string' ? arg.split('.') : Array.isArray(arg) ? arg.map((p) => flat(render(p))) : [];
      return marker(parts.join('.'));
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string') return marker('Fn::Join');
      const items = render(arg[1]);
      if (!Array.isArray(items)) return marker('Fn::Join');
      return items.map(flat).join(arg[0]);
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3) return marker('Fn::If');
      return new Branches([render(arg[1]), render(arg[2])].filter((v) => v !== noValue));
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg)) return marker('Fn::Select');
      const items = render(arg[1]);
      const index = Number(flat(render(arg[0])));
      return Array.isArray(items) && Number.isInteger(index) && index >= 0 && index < items.length ? items[index] : marker('Fn::Select');
    }
    case 'Fn::ImportValue':
      return marker(`ImportValue.${flat(render(arg))}`);
    case 'Fn::FindInMap':
      return marker(`FindInMap.${Array.isArray(arg) ? arg.map((a) => flat(render(a))).join('.') : ''}`);
    case 'Fn::ToJsonString':
      // Language-extension transform: the policy text is this object, serialised at deploy time.
      return render(arg);
    default:
      return marker(key);
  }
}

/** A rendered value as a display string (nested markers included). */
function flat(value: Rendered): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Branches) return value.values.map(flat).join('|');
  return marker('value');
}

function render(value: unknown): Rendered {
  if (Array.isArray(value)) {
    const out: Rendered[] = [];
    for (const item of value) {
      const r = render(item);
      if (r === noValue) continue;
      if (r instanceof Branches) out.push(...r.values.flatMap((v) => (Array.isArray(v) ? v : [v])));
      else out.push(r);
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && isIntrinsicKey(entries[0]![0])) return renderIntrinsic(entries[0]![0], entries[0]![1]);
    const out: Record<string, Rendered> = {};
    for (const [k, v] of entries) {
      const r = render(v);
      if (r === noValue) continue;
      out[k] = r instanceof Branches ? (r.values.length === 1 ? r.values[0] : r.values.flatMap((b) => (Array.isArray(b) ? b : [b]))) : r;
    }
    return out;
  }
  return value;
}

/** Renders the intrinsics of a template fragment (a policy document, a principal, a managed policy ARN). */
export function renderIntrinsics(value: unknown): unknown {
  const r = render(value);
  if (r === noValue) return undefined;
  if (r instanceof Branches) return r.values.length === 1 ? r.values[0] : r.values;
  return r;
}

/**
 * serverless.yml variables (`${sls:stage}`, `${self:custom.x}`, `${param:y}`, `${aws:accountId}`…) are resolved by
 * the framework before CloudFormation sees them; render them as markers too. IAM's own policy variables share the
 * `${…}` syntax (`${aws:username}`), so only the framework's sources are replaced.
 */
const frameworkSources = /\$\{(?:self|sls|opt|param|env|file|cf|ssm|s3|strToBool|aws:accountId|aws:region)\b[^{}]*\}/g;
export function renderServerlessVariables(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(frameworkSources, (v) =>
      v === '${aws:accountId}' ? '{{AWS.AccountId}}' : v === '${aws:region}' ? '{{AWS.Region}}' : marker(v.slice(2, -1)),
    );
  }
  if (Array.isArray(value)) return value.map(renderServerlessVariables);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderServerlessVariables(v)]));
  }
  return value;
}
