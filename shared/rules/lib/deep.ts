import { isObject } from './record';

/**
 * Values of the keys that pass `keyTest`, anywhere inside a request or response, breadth-first. EC2's newer APIs
 * wrap their parameters (`{"CreateTransitGatewayVpcAttachmentRequest": {"TransitGatewayId": …}}`) and capitalise
 * keys, older ones do not; searching by key name handles both. Bounded (depth and visited nodes), because a
 * record is input: a hostile or huge request costs at most `maxNodes` visits.
 */
export function deepValues(value: unknown, keyTest: (key: string) => boolean, maxDepth = 8, maxNodes = 2000): unknown[] {
  const out: unknown[] = [];
  let queue: unknown[] = [value];
  let visited = 0;
  for (let depth = 0; depth <= maxDepth && queue.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of queue) {
      if (++visited > maxNodes) return out;
      if (Array.isArray(node)) {
        next.push(...node);
      } else if (isObject(node)) {
        for (const [k, v] of Object.entries(node)) {
          if (keyTest(k)) out.push(v);
          if (typeof v === 'object' && v !== null) next.push(v);
        }
      }
    }
    queue = next;
  }
  return out;
}

/** The first string value of a key (case-insensitive), anywhere inside `value`. */
export function deepString(value: unknown, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const v of deepValues(value, (k) => k.toLowerCase() === lower)) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

/** Every string value of the given keys (case-insensitive). */
export function deepStrings(value: unknown, keys: readonly string[]): string[] {
  const wanted = new Set(keys.map((k) => k.toLowerCase()));
  return deepValues(value, (k) => wanted.has(k.toLowerCase())).filter((v): v is string => typeof v === 'string' && v !== '');
}
