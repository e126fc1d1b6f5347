import { createHash } from 'node:crypto';

/**
 * The signing certificates of a SAML metadata document, as SHA-256 fingerprints of their DER bytes (what
 * `openssl x509 -fingerprint -sha256` prints, without colons, lower-case). Only the `<X509Certificate>` elements are
 * read, with a linear pattern and bounded counts: metadata in a CloudTrail record is input.
 */
const CERT = /<(?:[A-Za-z0-9_.-]{1,32}:)?X509Certificate>([A-Za-z0-9+/=\s]{16,20000})<\/(?:[A-Za-z0-9_.-]{1,32}:)?X509Certificate>/g;
const MAX_CERTS = 10;
const MAX_METADATA_CHARS = 1_000_000;

export function certificateFingerprints(metadata: unknown): string[] {
  if (typeof metadata !== 'string' || metadata.length > MAX_METADATA_CHARS) return [];
  const out = new Set<string>();
  for (const m of metadata.matchAll(CERT)) {
    const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    if (der.length > 0) out.add(createHash('sha256').update(der).digest('hex'));
    if (out.size >= MAX_CERTS) break;
  }
  return [...out];
}

/** A configured fingerprint in any usual spelling ("AB:CD:…", "sha256:abcd…", "abcd…") as lower-case hex. */
export const normalizeFingerprint = (fp: string): string => fp.trim().toLowerCase().replace(/^sha256[:=]/, '').replace(/:/g, '');

/** The entityID of the identity provider in the metadata, when present. */
export function entityIdOf(metadata: unknown): string | undefined {
  if (typeof metadata !== 'string') return undefined;
  const m = /entityID="([^"]{1,512})"/.exec(metadata.slice(0, 100_000));
  return m?.[1];
}
