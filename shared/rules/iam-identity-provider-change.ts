import { z } from 'zod';
import type { Severity } from '../alerts/schema';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, asArray, attempt, param, shift } from './lib/record';
import { certificateFingerprints, entityIdOf, normalizeFingerprint } from './lib/saml';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption(
    ['sso.amazonaws.com'],
    'Default sso.amazonaws.com: IAM Identity Center maintains the AWSSSO_…_DO_NOT_DELETE SAML provider in every member ' +
      'account through its service-linked role (AWSServiceRoleForSSO); that is not a human change.',
  ),
  knownCertificateFingerprints: z
    .array(z.string().regex(/^(?:sha256[:=])?(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, 'expected a SHA-256 fingerprint (64 hex digits, colons allowed)'))
    .max(100)
    .default([])
    .describe(
      'SHA-256 fingerprints of your identity providers’ signing certificates. With them a metadata update is judged: a ' +
        'certificate not in the list is critical (someone else can now sign assertions for your roles), a known one medium.',
    ),
});
type Options = z.infer<typeof Options>;

const EVENTS = [
  'CreateSAMLProvider',
  'UpdateSAMLProvider',
  'DeleteSAMLProvider',
  'CreateOpenIDConnectProvider',
  'UpdateOpenIDConnectProviderThumbprint',
  'AddClientIDToOpenIDConnectProvider',
  'RemoveClientIDFromOpenIDConnectProvider',
  'DeleteOpenIDConnectProvider',
] as const;

const providerOf = (record: CloudTrailRecord): string => {
  const arn = param(record, 'sAMLProviderArn') ?? param(record, 'openIDConnectProviderArn');
  if (arn !== undefined) return arn.slice(arn.indexOf('/') + 1);
  const name = param(record, 'name') ?? param(record, 'url');
  if (name !== undefined) return name.replace(/^https:\/\//, '');
  const created = record.responseElements?.sAMLProviderArn ?? record.responseElements?.openIDConnectProviderArn;
  return typeof created === 'string' ? created.slice(created.indexOf('/') + 1) : 'unknown provider';
};

type CertVerdict = { kind: 'none' } | { kind: 'unknown-list'; fingerprints: string[] } | { kind: 'known'; fingerprints: string[] } | { kind: 'new'; fingerprints: string[] };

/**
 * What can be said about the certificate of a SAML metadata document. One record does not show the previous
 * metadata, so without known fingerprints the rule reports the new fingerprint and says it cannot compare.
 */
function certVerdict(record: CloudTrailRecord, ctx: RuleContext<Options>): CertVerdict {
  if (record.eventName !== 'CreateSAMLProvider' && record.eventName !== 'UpdateSAMLProvider') return { kind: 'none' };
  const fingerprints = certificateFingerprints(record.requestParameters?.sAMLMetadataDocument);
  if (fingerprints.length === 0) return { kind: 'none' };
  const known = ctx.options.knownCertificateFingerprints.map(normalizeFingerprint);
  if (known.length === 0) return { kind: 'unknown-list', fingerprints };
  return fingerprints.every((f) => known.includes(f)) ? { kind: 'known', fingerprints } : { kind: 'new', fingerprints };
}

function severityOf(record: CloudTrailRecord, ctx: RuleContext<Options>, base: Severity): Severity {
  const cert = certVerdict(record, ctx);
  if (cert.kind === 'new') return shift(base, 1);
  if (cert.kind === 'known') return shift(base, -1);
  if (record.eventName.startsWith('Delete') || record.eventName.startsWith('Remove')) return shift(base, -1);
  return base;
}

const short = (fp: string): string => `sha256:${fp.slice(0, 16)}…`;

const metadata = (entityId: string, certBase64: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">` +
  '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
  `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
  '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>';

// Documentation-only certificate bodies (base64 of arbitrary bytes, not real certificates).
const CERT_A = 'MIIDBTCCAe2gAwIBAgIQExampleSigningCertificateAAAAAAAAAAAAAAAAAAAA';
const CERT_B = 'MIIDBTCCAe2gAwIBAgIQAttackerSigningCertificateBBBBBBBBBBBBBBBBBB';
// sha256 of base64-decoded CERT_A (what a team would list after checking its IdP).
const CERT_A_SHA256 = '5d:fa:03:16:38:05:1d:d3:75:5b:6d:bd:78:bb:99:bc:b5:6e:1f:18:b3:3a:0b:6f:6b:2f:d4:f1:ca:78:2a:bd';

const iamCall = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: IAM, eventName, awsRegion: 'us-east-1', requestParameters, ...extra });

export default defineRule({
  id: 'iam-identity-provider-change',
  title: 'IAM SAML or OIDC identity provider changed',
  description:
    'A SAML or OpenID Connect provider decides who can assume the roles that trust it. Creating one, replacing a ' +
    'SAML provider’s metadata (its signing certificate) or an OIDC provider’s thumbprints, or adding a client id ' +
    'lets a new party mint sessions for those roles: a persistence technique that survives every key rotation. ' +
    'With `knownCertificateFingerprints` configured the rule tells whether the certificate changed (new: critical; ' +
    'known: medium); without, it reports the new fingerprint. IAM Identity Center maintaining its own provider ' +
    'through its service-linked role is not a human change and is allow-listed by default.',
  severity: 'high',
  categories: ['idp-change'],
  references: [
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml.html',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html',
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_sso_idp_change.yml',
    'https://attack.mitre.org/techniques/T1484/002/',
  ],
  falsePositives: [
    'A planned IdP certificate rotation (list the new fingerprint in knownCertificateFingerprints beforehand).',
    'A new CI provider such as token.actions.githubusercontent.com set up by the platform team.',
  ],
  runbook:
    '1. Compare the provider with your identity provider’s published metadata (`aws iam get-saml-provider`); the ' +
    'alert gives the new certificate fingerprint. 2. If unknown: restore the previous metadata or delete the ' +
    'provider, and look for AssumeRoleWithSAML / AssumeRoleWithWebIdentity calls since firstSeen.',
  events: [{ source: IAM, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, severityOf(record, ctx, base));
  },

  alertTitle(record, ctx) {
    const provider = providerOf(record);
    const cert = certVerdict(record, ctx);
    const by = `by ${ctx.actor.display}${viaService(record)}`;
    let what: string;
    switch (record.eventName) {
      case 'UpdateSAMLProvider':
        what = `SAML provider ${provider} metadata replaced`;
        break;
      case 'UpdateOpenIDConnectProviderThumbprint':
        what = `OIDC provider ${provider} thumbprints replaced`;
        break;
      case 'AddClientIDToOpenIDConnectProvider':
        what = `Client id ${param(record, 'clientID') ?? '?'} added to OIDC provider ${provider}`;
        break;
      case 'RemoveClientIDFromOpenIDConnectProvider':
        what = `Client id ${param(record, 'clientID') ?? '?'} removed from OIDC provider ${provider}`;
        break;
      default:
        what = `${record.eventName.startsWith('Create') ? 'Created' : 'Deleted'} ${record.eventName.includes('SAML') ? 'SAML' : 'OIDC'} provider ${provider}`;
    }
    const certText =
      cert.kind === 'new'
        ? ` — NEW signing certificate ${short(cert.fingerprints.find((f) => !ctx.options.knownCertificateFingerprints.map(normalizeFingerprint).includes(f))!)}`
        : cert.kind === 'known'
          ? ' — certificate unchanged (known fingerprint)'
          : cert.kind === 'unknown-list'
            ? ` — signing certificate ${short(cert.fingerprints[0]!)}`
            : '';
    return attempt(ctx, `${what} ${by}${certText}`);
  },

  // Per caller and provider.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${providerOf(record)}`;
  },

  alertContext(record, ctx) {
    const cert = certVerdict(record, ctx);
    const p = record.requestParameters ?? {};
    return {
      provider: providerOf(record),
      ...(entityIdOf(p.sAMLMetadataDocument) ? { entityId: entityIdOf(p.sAMLMetadataDocument) } : {}),
      ...(cert.kind !== 'none' ? { certificateSha256: cert.fingerprints } : {}),
      certificateChanged:
        cert.kind === 'new' ? true : cert.kind === 'known' ? false : cert.kind === 'unknown-list' ? 'unknown: set knownCertificateFingerprints to compare' : 'not applicable',
      ...(p.thumbprintList !== undefined ? { thumbprints: asArray(p.thumbprintList) } : {}),
      ...(p.clientIDList !== undefined ? { clientIds: asArray(p.clientIDList) } : {}),
      ...(param(record, 'url') ? { url: param(record, 'url') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'SAML metadata replaced with a certificate that is not among the known ones is critical',
        config: { rules: { 'iam-identity-provider-change': { options: { knownCertificateFingerprints: [CERT_A_SHA256] } } } },
        record: iamCall('UpdateSAMLProvider', {
          sAMLProviderArn: 'arn:aws:iam::111122223333:saml-provider/Okta',
          sAMLMetadataDocument: metadata('http://www.okta.com/exk1a2b3c4d5e6f7g8h9', CERT_B),
        }),
        expect: { severity: 'critical', title: 'SAML provider Okta metadata replaced by alice — NEW signing certificate', dedupKey: 'arn:aws:iam::111122223333:user/alice|Okta' },
      },
      {
        name: 'SAML metadata refreshed without configured fingerprints: reports the certificate',
        record: iamCall('UpdateSAMLProvider', {
          sAMLProviderArn: 'arn:aws:iam::111122223333:saml-provider/Okta',
          sAMLMetadataDocument: metadata('http://www.okta.com/exk1a2b3c4d5e6f7g8h9', CERT_A),
        }),
        expect: { severity: 'high', title: '— signing certificate sha256:' },
      },
      {
        name: 'a metadata refresh that keeps a known certificate is medium',
        config: { rules: { 'iam-identity-provider-change': { options: { knownCertificateFingerprints: [CERT_A_SHA256] } } } },
        record: iamCall('UpdateSAMLProvider', {
          sAMLProviderArn: 'arn:aws:iam::111122223333:saml-provider/Okta',
          sAMLMetadataDocument: metadata('http://www.okta.com/exk1a2b3c4d5e6f7g8h9', CERT_A),
        }),
        expect: { severity: 'medium', title: 'certificate unchanged (known fingerprint)' },
      },
      {
        name: 'an OIDC provider for GitHub Actions created',
        record: iamCall(
          'CreateOpenIDConnectProvider',
          { url: 'https://token.actions.githubusercontent.com', clientIDList: ['sts.amazonaws.com'], thumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'] },
          { responseElements: { openIDConnectProviderArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' } },
        ),
        expect: { severity: 'high', title: 'Created OIDC provider token.actions.githubusercontent.com' },
      },
      {
        name: 'a client id added to an OIDC provider',
        record: iamCall('AddClientIDToOpenIDConnectProvider', {
          openIDConnectProviderArn: 'arn:aws:iam::111122223333:oidc-provider/accounts.google.com',
          clientID: '1234567890-abcdefghijklmnop.apps.googleusercontent.com',
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'a failed SAML provider deletion is low',
        record: iamCall('DeleteSAMLProvider', { sAMLProviderArn: 'arn:aws:iam::111122223333:saml-provider/Okta' }, {
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:DeleteSAMLProvider',
        }),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'IAM Identity Center’s service-linked role maintaining its provider (allow-listed by default)',
        record: iamCall(
          'CreateSAMLProvider',
          { name: 'AWSSSO_0123456789abcdef_DO_NOT_DELETE', sAMLMetadataDocument: metadata('https://portal.sso.eu-central-1.amazonaws.com/saml/assertion/ABCDEF', CERT_A) },
          {
            sourceIPAddress: 'sso.amazonaws.com',
            userAgent: 'sso.amazonaws.com',
            userIdentity: identities.assumedRole('AWSServiceRoleForSSO', 'AWS-SSO', { invokedBy: 'sso.amazonaws.com' }),
          },
        ),
      },
      {
        name: 'listing providers',
        record: iamCall('ListSAMLProviders', {}, { readOnly: true }),
      },
      {
        name: 'a trust policy naming a SAML provider (its own rule)',
        record: iamCall('UpdateAssumeRolePolicy', { roleName: 'Admin', policyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
      },
    ],
  },
});
