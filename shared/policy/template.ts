import { z } from 'zod';
import { renderIntrinsics, renderServerlessVariables } from './intrinsics';
import type { AttachedTo, PolicyKind } from './schema';
import type { SourcePath } from './source';
import { Suppression } from './suppress';

/** One policy document found in a file, with where it is and what it governs. */
export interface PolicyTarget {
  /** The file that holds the document (an included serverless fragment has its own). */
  file: string;
  /** CloudFormation logical id, serverless function name, or "-" for a bare policy file. */
  resource: string;
  resourceType: string;
  /** Where the document is inside the file, e.g. Resources.Role.Properties.Policies[0].PolicyDocument. */
  path: SourcePath;
  /** Where each statement is in the file, when it can be told (for line numbers and comment suppressions). */
  statementPaths?: SourcePath[];
  /** Undefined for a bare policy file: inferred from the document. */
  kind?: PolicyKind;
  attachedTo: AttachedTo;
  /** The document with intrinsics rendered (still unvalidated). */
  document: unknown;
  /** Suppressions declared on the resource (CloudFormation Metadata). */
  suppressions: Suppression[];
}

export interface ManagedPolicyRef {
  file: string;
  resource: string;
  resourceType: string;
  path: SourcePath;
  arn: string;
  suppressions: Suppression[];
}

export interface Extracted {
  policies: PolicyTarget[];
  managed: ManagedPolicyRef[];
  /** Things that could not be read (a non-object Resources entry, an unresolvable include); reported, not fatal. */
  problems: string[];
}

export type SourceKind = 'policy' | 'cloudformation' | 'serverless';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a parsed file is: an IAM policy, a CloudFormation template, a serverless config — or nothing we lint. */
export function detectSourceKind(value: unknown): SourceKind | undefined {
  if (!isObject(value)) return undefined;
  if ('Statement' in value) return 'policy';
  if ('AWSTemplateFormatVersion' in value || isObject(value.Resources)) return 'cloudformation';
  if ('service' in value && ('provider' in value || 'functions' in value)) return 'serverless';
  return undefined;
}

/** Where the policies of each CloudFormation resource type live, and what kind they are. */
interface PolicySlot {
  /** Property path below Properties; `*` iterates a list. */
  at: (string | '*')[];
  kind: PolicyKind;
  /** For identity policies: who holds them (`from-properties` reads Users/Groups/Roles). */
  attachedTo?: AttachedTo | 'from-properties';
}

const slots: Record<string, PolicySlot[]> = {
  'AWS::IAM::Role': [
    { at: ['AssumeRolePolicyDocument'], kind: 'trust' },
    { at: ['Policies', '*', 'PolicyDocument'], kind: 'identity', attachedTo: 'role' },
  ],
  'AWS::IAM::User': [{ at: ['Policies', '*', 'PolicyDocument'], kind: 'identity', attachedTo: 'user' }],
  'AWS::IAM::Group': [{ at: ['Policies', '*', 'PolicyDocument'], kind: 'identity', attachedTo: 'group' }],
  'AWS::IAM::Policy': [{ at: ['PolicyDocument'], kind: 'identity', attachedTo: 'from-properties' }],
  'AWS::IAM::ManagedPolicy': [{ at: ['PolicyDocument'], kind: 'identity', attachedTo: 'from-properties' }],
  'AWS::IAM::RolePolicy': [{ at: ['PolicyDocument'], kind: 'identity', attachedTo: 'role' }],
  'AWS::IAM::UserPolicy': [{ at: ['PolicyDocument'], kind: 'identity', attachedTo: 'user' }],
  'AWS::IAM::GroupPolicy': [{ at: ['PolicyDocument'], kind: 'identity', attachedTo: 'group' }],
  'AWS::S3::BucketPolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::S3::AccessPoint': [{ at: ['Policy'], kind: 'resource' }],
  'AWS::SQS::QueuePolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::SQS::QueueInlinePolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::SNS::TopicPolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::SNS::TopicInlinePolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::KMS::Key': [{ at: ['KeyPolicy'], kind: 'resource' }],
  'AWS::SecretsManager::ResourcePolicy': [{ at: ['ResourcePolicy'], kind: 'resource' }],
  'AWS::ECR::Repository': [{ at: ['RepositoryPolicyText'], kind: 'resource' }],
  'AWS::Logs::ResourcePolicy': [{ at: ['PolicyDocument'], kind: 'resource' }],
  'AWS::Events::EventBus': [{ at: ['Policy'], kind: 'resource' }],
};

const managedSlots: Record<string, string[]> = {
  'AWS::IAM::Role': ['ManagedPolicyArns'],
  'AWS::IAM::User': ['ManagedPolicyArns'],
  'AWS::IAM::Group': ['ManagedPolicyArns'],
};

/** Values of a property path, with their concrete paths (lists expanded at `*`). */
function valuesAt(root: unknown, at: (string | '*')[], base: SourcePath): [unknown, SourcePath][] {
  let current: [unknown, SourcePath][] = [[root, base]];
  for (const step of at) {
    const next: [unknown, SourcePath][] = [];
    for (const [value, path] of current) {
      if (step === '*') {
        if (Array.isArray(value)) value.forEach((v, i) => next.push([v, [...path, i]]));
      } else if (isObject(value) && value[step] !== undefined) {
        next.push([value[step], [...path, step]]);
      }
    }
    current = next;
  }
  return current;
}

/** AWS::IAM::Policy/ManagedPolicy: attached to users or groups (long-term keys) or only to roles. */
function attachedFromProperties(props: Record<string, unknown>): AttachedTo {
  const has = (k: string): boolean => Array.isArray(props[k]) && (props[k] as unknown[]).length > 0;
  if (has('Users')) return 'user';
  if (has('Groups')) return 'group';
  if (has('Roles')) return 'role';
  return 'unknown';
}

const MetadataSuppressions = z.object({ vigil: z.object({ ignore: z.array(Suppression) }) });

function metadataSuppressions(resource: Record<string, unknown>, where: string, problems: string[]): Suppression[] {
  if (!isObject(resource.Metadata) || resource.Metadata.vigil === undefined) return [];
  const parsed = MetadataSuppressions.safeParse(resource.Metadata);
  if (!parsed.success) {
    problems.push(`${where}: Metadata.vigil.ignore must be a list of {rule, reason, …}: ${parsed.error.issues[0]?.message ?? ''}`);
    return [];
  }
  return parsed.data.vigil.ignore;
}

/** Statement paths of a raw document, when its Statement list maps 1:1 to the rendered one. */
function statementPathsOf(raw: unknown, rendered: unknown, docPath: SourcePath): SourcePath[] | undefined {
  if (!isObject(raw) || !isObject(rendered)) return undefined;
  if (isObject(raw.Statement)) return [[...docPath, 'Statement']];
  if (!Array.isArray(raw.Statement) || !Array.isArray(rendered.Statement)) return undefined;
  if (raw.Statement.length !== rendered.Statement.length) return undefined;
  return raw.Statement.map((_, i) => [...docPath, 'Statement', i]);
}

/** The policies and managed-policy attachments of a CloudFormation template (also `resources` of serverless.yml). */
export function extractFromCloudFormation(template: unknown, file: string, base: SourcePath = []): Extracted {
  const out: Extracted = { policies: [], managed: [], problems: [] };
  if (!isObject(template) || !isObject(template.Resources)) return out;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const where = `${file}: Resources.${logicalId}`;
    if (!isObject(resource) || typeof resource.Type !== 'string') {
      out.problems.push(`${where}: not a resource (no Type)`);
      continue;
    }
    const type = resource.Type;
    const props = isObject(resource.Properties) ? resource.Properties : {};
    const propsPath: SourcePath = [...base, 'Resources', logicalId, 'Properties'];
    const suppressions = metadataSuppressions(resource, where, out.problems);
    for (const slot of slots[type] ?? []) {
      for (const [raw, path] of valuesAt(props, slot.at, propsPath)) {
        const rendered = renderIntrinsics(raw);
        out.policies.push({
          file,
          resource: logicalId,
          resourceType: type,
          path,
          statementPaths: statementPathsOf(raw, rendered, path),
          kind: slot.kind,
          attachedTo: slot.attachedTo === 'from-properties' ? attachedFromProperties(props) : (slot.attachedTo ?? 'unknown'),
          document: rendered,
          suppressions,
        });
      }
    }
    for (const key of managedSlots[type] ?? []) {
      const list = renderIntrinsics(props[key]);
      if (!Array.isArray(list)) continue;
      list.forEach((arn, i) => {
        if (typeof arn === 'string') {
          out.managed.push({ file, resource: logicalId, resourceType: type, path: [...propsPath, key, i], arn, suppressions });
        }
      });
    }
  }
  return out;
}

/** A `${file(path)}` include of serverless.yml, resolved by the caller (it owns file access). */
export type IncludeResolver = (ref: string) => { file: string; value: unknown } | { error: string };

const includePattern = /^\$\{file\(([^)]+)\)\}$/;

function serverlessStatements(
  statements: unknown,
  file: string,
  path: SourcePath,
  resource: string,
  resourceType: string,
): PolicyTarget | undefined {
  if (!Array.isArray(statements) || statements.length === 0) return undefined;
  const rendered = renderIntrinsics(renderServerlessVariables(statements));
  return {
    file,
    resource,
    resourceType,
    path,
    statementPaths: Array.isArray(rendered) && rendered.length === statements.length ? statements.map((_, i) => [...path, i]) : undefined,
    kind: 'identity',
    attachedTo: 'role',
    // The framework wraps the statements in a role policy with this Version.
    document: { Version: '2012-10-17', Statement: rendered },
    suppressions: [],
  };
}

/**
 * The policies of a serverless.yml: `provider.iam.role.statements` (and the older `provider.iamRoleStatements`),
 * `provider.iam.role.managedPolicies`, per-function `iamRoleStatements` (serverless-iam-roles-per-function) and the
 * CloudFormation `resources`. `${file(…)}` includes of functions and resources are followed through `resolve`.
 */
export function extractFromServerless(config: unknown, file: string, resolve: IncludeResolver): Extracted {
  const out: Extracted = { policies: [], managed: [], problems: [] };
  if (!isObject(config)) return out;
  const merge = (e: Extracted): void => {
    out.policies.push(...e.policies);
    out.managed.push(...e.managed);
    out.problems.push(...e.problems);
  };
  const include = (value: unknown, at: SourcePath): { file: string; value: unknown; base: SourcePath } | undefined => {
    if (typeof value !== 'string') return { file, value, base: at };
    const m = includePattern.exec(value.trim());
    if (!m) return { file, value, base: at };
    const resolved = resolve(m[1]!.trim());
    if ('error' in resolved) {
      out.problems.push(`${file}: ${value}: ${resolved.error}`);
      return undefined;
    }
    return { file: resolved.file, value: resolved.value, base: [] };
  };

  const provider = isObject(config.provider) ? config.provider : {};
  const iamRole = isObject(provider.iam) && isObject(provider.iam.role) ? provider.iam.role : {};
  const shared = serverlessStatements(iamRole.statements, file, ['provider', 'iam', 'role', 'statements'], 'provider.iam.role', 'serverless provider role');
  if (shared) out.policies.push(shared);
  const legacy = serverlessStatements(provider.iamRoleStatements, file, ['provider', 'iamRoleStatements'], 'provider.iamRoleStatements', 'serverless provider role');
  if (legacy) out.policies.push(legacy);
  const managed = renderIntrinsics(renderServerlessVariables(iamRole.managedPolicies));
  if (Array.isArray(managed)) {
    managed.forEach((arn, i) => {
      if (typeof arn === 'string') {
        out.managed.push({ file, resource: 'provider.iam.role', resourceType: 'serverless provider role', path: ['provider', 'iam', 'role', 'managedPolicies', i], arn, suppressions: [] });
      }
    });
  }

  // `functions` is a map, or (with includes) a list of maps.
  const functionGroups: { file: string; value: unknown; base: SourcePath }[] = [];
  if (Array.isArray(config.functions)) {
    config.functions.forEach((entry, i) => {
      const inc = include(entry, ['functions', i]);
      if (inc) functionGroups.push(inc);
    });
  } else if (config.functions !== undefined) {
    const inc = include(config.functions, ['functions']);
    if (inc) functionGroups.push(inc);
  }
  for (const group of functionGroups) {
    if (!isObject(group.value)) continue;
    for (const [name, fn] of Object.entries(group.value)) {
      if (!isObject(fn)) continue;
      const target = serverlessStatements(fn.iamRoleStatements, group.file, [...group.base, name, 'iamRoleStatements'], name, 'serverless function role');
      if (target) out.policies.push(target);
    }
  }

  // `resources` is a CloudFormation fragment, or a list of fragments and includes.
  const fragments = Array.isArray(config.resources) ? config.resources.map((r, i) => include(r, ['resources', i])) : [include(config.resources, ['resources'])];
  for (const fragment of fragments) {
    if (!fragment || !isObject(fragment.value)) continue;
    merge(extractFromCloudFormation(renderServerlessVariables(fragment.value), fragment.file, fragment.base));
  }
  return out;
}
