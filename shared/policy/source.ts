import {
  type CollectionTag,
  LineCounter,
  type Node,
  type ScalarTag,
  YAMLMap,
  YAMLSeq,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
} from 'yaml';
import { ValidationError } from '../core/errors';

export type SourcePath = (string | number)[];

/** A `# vigil:ignore <rule-id>[,<rule-id>…] <reason>` comment and the YAML node it sits on. */
export interface CommentMarker {
  path: SourcePath;
  rules: string[];
  reason: string;
  line: number;
}

/** A parsed JSON or YAML file with what the linter needs to point into it. */
export interface LoadedSource {
  file: string;
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest ancestor that exists in the file. */
  lineOf(path: SourcePath): number | undefined;
  markers: CommentMarker[];
  /** Comments that look like a suppression but cannot be one (no rule, no reason). */
  markerProblems: string[];
}

/**
 * CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt`…) as their long JSON forms, for every node shape
 * they are written in: `!GetAtt Role.Arn`, `!Sub [..]`, `!If [cond, a, b]`, `!Transform {…}`.
 */
const cfnFunctions = [
  'Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform',
  'And', 'Equals', 'If', 'Not', 'Or', 'ToJsonString', 'Length', 'ForEach',
];
const longName = (name: string): string => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);

function wrap(name: string, value: unknown): YAMLMap {
  const map = new YAMLMap();
  map.set(longName(name), value);
  return map;
}

export const cloudFormationTags: (ScalarTag | CollectionTag)[] = ['Ref', 'Condition', ...cfnFunctions].flatMap((name) => {
  const tag = `!${name}`;
  const scalar: ScalarTag = {
    tag,
    resolve: (value: string) => ({ [longName(name)]: name === 'GetAtt' ? value.split('.') : value }),
  };
  const seq = {
    tag,
    collection: 'seq',
    nodeClass: YAMLSeq,
    resolve: (node: YAMLSeq) => wrap(name, node),
  } as unknown as CollectionTag;
  const map = {
    tag,
    collection: 'map',
    nodeClass: YAMLMap,
    resolve: (node: YAMLMap) => wrap(name, node),
  } as unknown as CollectionTag;
  return [scalar, seq, map];
});

const markerPattern = /vigil:ignore\b(.*)/;

function collectMarkers(doc: Document, lines: LineCounter, text: string): { markers: CommentMarker[]; problems: string[] } {
  const markers: CommentMarker[] = [];
  const problems: string[] = [];
  const take = (comment: string | null | undefined, path: SourcePath, offset: number | undefined): void => {
    if (!comment) return;
    for (const commentLine of comment.split('\n')) {
      const m = markerPattern.exec(commentLine);
      if (!m) continue;
      // The parser keeps a comment's text, not its position: find it next to the node it belongs to.
      const at = offset === undefined ? -1 : text.lastIndexOf(m[0], offset) >= 0 ? text.lastIndexOf(m[0], offset) : text.indexOf(m[0], offset);
      const line = at >= 0 ? lines.linePos(at).line : offset === undefined ? 0 : lines.linePos(offset).line;
      const rest = (m[1] ?? '').trim();
      const space = rest.search(/\s/);
      const rules = (space < 0 ? rest : rest.slice(0, space)).split(',').filter((r) => r !== '');
      const reason = space < 0 ? '' : rest.slice(space).trim();
      if (rules.length === 0 || reason === '') {
        problems.push(`line ${line}: "vigil:ignore" needs a rule id and a reason ("# vigil:ignore <rule-id> <why>"); ignored`);
        continue;
      }
      markers.push({ path, rules, reason, line });
    }
  };
  const walk = (node: unknown, path: SourcePath): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    take(n.commentBefore, path, n.range?.[0]);
    if (isMap(n)) {
      take(n.comment, path, n.range?.[1]);
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyNode = pair.key as Node | null;
        take(keyNode?.commentBefore, [...path, key], keyNode?.range?.[0]);
        // An inline comment after a scalar value (`Effect: Allow  # vigil:ignore …`) is about the enclosing map.
        if (isScalar(pair.value)) take(pair.value.comment, path, pair.value.range?.[0]);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(n)) {
      take(n.comment, path, n.range?.[1]);
      n.items.forEach((item, i) => {
        if (isScalar(item)) take(item.comment, [...path, i], item.range?.[0]);
        walk(item, [...path, i]);
      });
    }
  };
  walk(doc.contents, []);
  take(doc.commentBefore, [], 0);
  return { markers, problems };
}

/**
 * Parses a JSON or YAML file (CloudFormation tags understood) and keeps the node positions. JSON goes through
 * JSON.parse first so that invalid JSON is reported as such, not as a YAML oddity.
 */
export function loadSource(text: string, file: string, format: 'json' | 'yaml'): LoadedSource {
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (cause) {
      // V8 reports an offset; people look for a line.
      const message = (cause as Error).message;
      const at = /at position (\d+)/.exec(message);
      const where = at && !/\(line \d+/.test(message) ? ` (line ${text.slice(0, Number(at[1])).split('\n').length})` : '';
      throw new ValidationError(`${file}: not valid JSON: ${message}${where}`, { cause });
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    customTags: cloudFormationTags,
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: true,
    keepSourceTokens: false,
  });
  if (format === 'yaml') {
    if (doc.errors.length > 0) {
      throw new ValidationError(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    }
    value = doc.toJS({ maxAliasCount: 100 });
  }
  const usable = doc.errors.length === 0;
  const { markers, problems } = usable ? collectMarkers(doc, lines, text) : { markers: [], problems: [] };
  return {
    file,
    value,
    markers,
    markerProblems: problems.map((p) => `${file}: ${p}`),
    lineOf(path) {
      if (!usable) return undefined;
      for (let len = path.length; len >= 0; len--) {
        const node = doc.getIn(path.slice(0, len), true) as Node | undefined;
        if (node && typeof node === 'object' && node.range) return lines.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** JSON or YAML, from the file name; content sniffing for stdin and unknown extensions. */
export function formatOf(file: string, text: string): 'json' | 'yaml' {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.ya?ml$/i.test(file)) return 'yaml';
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}
