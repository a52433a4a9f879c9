// Certificate trust for signature verification (../shared/specs/dependencies.md XML security rule 4:
// trust is configuration, not message content). A certificate found in KeyInfo is used only after its
// chain to a configured CA was built and checked: validity at the given time, CA flags, signatures,
// key usage. Node's X509Certificate does the cryptography; pkijs/asn1js read the subject and key usage.
import { X509Certificate } from 'node:crypto';
import { Certificate } from 'pkijs';
import type * as asn1js from 'asn1js';

/** Split a PEM bundle into one PEM string per certificate. */
export function splitPemCertificates(pem: string | Buffer): string[] {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Configured trust. Treat it as immutable: chains found through it are cached per store object. */
export interface TrustStore {
  /** Self-signed CA certificates: chains must end in one of these. */
  readonly anchors: readonly X509Certificate[];
  /** Configured intermediate CA certificates (they must chain to an anchor themselves). */
  readonly intermediates: readonly X509Certificate[];
}

/** Small insertion-ordered cache with a size cap (oldest entry evicted first). */
class Bounded<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly cap: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as K);
  }
}

// Certificates are immutable: the same base64 DER always parses to the same certificate, so a verifier
// that sees the same sender certificate on every message (an operator, our SDK inbound) parses it once.
const parsedCertificates = new Bounded<string, X509Certificate>(512);

/** An X509Certificate from base64 DER (whitespace ignored), parsed once per distinct value. Throws on bad input. */
export function certificateFromBase64(b64: string): X509Certificate {
  const key = b64.replace(/\s+/g, '');
  let c = parsedCertificates.get(key);
  if (!c) {
    c = new X509Certificate(Buffer.from(key, 'base64'));
    parsedCertificates.set(key, c);
  }
  return c;
}

/** Build a trust store from configured PEM bundles (root and intermediate CAs). */
export function createTrustStore(...bundles: Array<string | Buffer>): TrustStore {
  const anchors: X509Certificate[] = [];
  const intermediates: X509Certificate[] = [];
  for (const bundle of bundles) {
    for (const pem of splitPemCertificates(bundle)) {
      const c = new X509Certificate(pem);
      if (!c.ca) continue; // leaf certificates are never trust anchors
      if (c.checkIssued(c) && c.verify(c.publicKey)) anchors.push(c);
      else intermediates.push(c);
    }
  }
  if (anchors.length === 0) throw new Error('trust store needs at least one self-signed CA certificate');
  return Object.freeze({ anchors: Object.freeze(anchors), intermediates: Object.freeze(intermediates) });
}

export type ChainResult = { ok: true; chain: X509Certificate[] } | { ok: false; reason: string };

function validAt(c: X509Certificate, at: Date): boolean {
  return new Date(c.validFrom).getTime() <= at.getTime() && at.getTime() <= new Date(c.validTo).getTime();
}

const sameCert = (a: X509Certificate, b: X509Certificate): boolean => a.raw.equals(b.raw);

// Chains found per trust store: the signature checks and key-usage parsing of a path are done once per
// (leaf, offered intermediates); every call still checks each certificate's validity at its own time.
// Only successes are cached, so a stream of bad certificates cannot push good ones out for free.
const chainCache = new WeakMap<TrustStore, Bounded<string, X509Certificate[]>>();

/**
 * Build and check the chain from `leaf` to an anchor of `store`. `extra` may supply intermediates that
 * came with the message; they are only path candidates, never trusted on their own.
 */
export function verifyCertificateChain(
  leaf: X509Certificate,
  store: TrustStore,
  opts: { at?: Date; extra?: X509Certificate[]; requireDigitalSignature?: boolean } = {},
): ChainResult {
  const at = opts.at ?? new Date();
  const key = [leaf.fingerprint256, opts.requireDigitalSignature !== false, ...(opts.extra ?? []).map((c) => c.fingerprint256)].join('|');
  const cached = chainCache.get(store)?.get(key);
  if (cached) return checkValidity(cached, at);
  const r = buildChain(leaf, store, at, opts);
  if (r.ok) {
    let perStore = chainCache.get(store);
    if (!perStore) chainCache.set(store, (perStore = new Bounded(1000)));
    perStore.set(key, r.chain);
  }
  return r;
}

/** A known-good path, checked for validity at `at` with the same reasons as buildChain gives. */
function checkValidity(chain: X509Certificate[], at: Date): ChainResult {
  for (let i = 0; i < chain.length; i++) {
    if (!validAt(chain[i]!, at)) {
      const reason = i === 0 ? 'certificate is not valid at this time' : i === chain.length - 1 ? 'the trusted CA certificate is not valid at this time' : 'an issuing CA certificate is not valid at this time';
      return { ok: false, reason };
    }
  }
  return { ok: true, chain: [...chain] };
}

function buildChain(leaf: X509Certificate, store: TrustStore, at: Date, opts: { extra?: X509Certificate[]; requireDigitalSignature?: boolean }): ChainResult {
  if (leaf.ca) return { ok: false, reason: 'a CA certificate cannot sign documents' };
  if (opts.requireDigitalSignature !== false && !hasDigitalSignatureUsage(leaf)) {
    return { ok: false, reason: 'certificate key usage does not allow digitalSignature' };
  }
  const candidates = [...store.intermediates, ...(opts.extra ?? []).filter((c) => c.ca), ...store.anchors];
  const chain: X509Certificate[] = [leaf];
  let cur = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (!validAt(cur, at)) return { ok: false, reason: depth === 0 ? 'certificate is not valid at this time' : 'an issuing CA certificate is not valid at this time' };
    const issuer = candidates.find((c) => !sameCert(c, cur) && cur.checkIssued(c) && cur.verify(c.publicKey));
    if (!issuer) return { ok: false, reason: 'certificate does not chain to a trusted CA' };
    chain.push(issuer);
    if (store.anchors.some((a) => sameCert(a, issuer))) {
      if (!validAt(issuer, at)) return { ok: false, reason: 'the trusted CA certificate is not valid at this time' };
      return { ok: true, chain };
    }
    cur = issuer;
  }
  return { ok: false, reason: 'certificate chain too long' };
}

type Rdn = Array<{ oid: string; value: string }>;

function parseCert(c: X509Certificate): Certificate {
  return Certificate.fromBER(new Uint8Array(c.raw));
}

/** The subject as a list of RDNs (each possibly multi-valued), in certificate order. */
const rdnCache = new WeakMap<X509Certificate, Rdn[]>();

export function subjectRdns(c: X509Certificate): Rdn[] {
  let rdns = rdnCache.get(c);
  if (!rdns) rdnCache.set(c, (rdns = readSubjectRdns(c)));
  return rdns.map((rdn) => rdn.map((atv) => ({ ...atv })));
}

function readSubjectRdns(c: X509Certificate): Rdn[] {
  const schema = parseCert(c).subject.toSchema() as asn1js.Sequence;
  return schema.valueBlock.value.map((set) =>
    (set as asn1js.Set).valueBlock.value.map((atv) => {
      const [type, value] = (atv as asn1js.Sequence).valueBlock.value as [asn1js.ObjectIdentifier, asn1js.BaseStringBlock];
      return { oid: type.valueBlock.toString(), value: String((value.valueBlock as { value?: unknown }).value ?? '') };
    }),
  );
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.5': 'SERIALNUMBER', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  // OpenSSL (xmlsec1) resolves these names when it looks the certificate up by X509SubjectName.
  '2.5.4.97': 'organizationIdentifier', '1.2.840.113549.1.9.1': 'emailAddress',
};

function escapeRdnValue(v: string): string {
  let s = v.replace(/[\\,+"<>;=]/g, (ch) => `\\${ch}`);
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ')) s = `${s.slice(0, -1)}\\ `;
  return s;
}

/** RFC 2253 string of the subject, as Java and .NET write `X509SubjectName` ("CN=… + SERIALNUMBER=…, O=…, C=SE"). */
export function subjectNameRfc2253(c: X509Certificate): string {
  return subjectRdns(c)
    .reverse()
    .map((rdn) => rdn.map(({ oid, value }) => `${SHORT_NAMES[oid] ?? oid}=${escapeRdnValue(value)}`).join(' + '))
    .join(', ');
}

/** True unless a keyUsage extension is present without the digitalSignature bit. */
export function hasDigitalSignatureUsage(c: X509Certificate): boolean {
  const ku = parseCert(c).extensions?.find((e) => e.extnID === '2.5.29.15');
  if (!ku) return true;
  const bits = (ku.parsedValue as asn1js.BitString | undefined)?.valueBlock.valueHexView;
  return bits !== undefined && bits.length > 0 && (bits[0]! & 0x80) !== 0;
}

/**
 * The 10-digit organisation number a certificate names: subject serialNumber (`16` + 10 digits or 10
 * digits, as Mina meddelanden test certificates carry it) or organizationIdentifier `NTRSE-` + 10 digits
 * (ETSI EN 319 412-1, as our development PKI issues them).
 */
export function organisationNumberOf(c: X509Certificate): string | undefined {
  for (const rdn of subjectRdns(c)) {
    for (const { oid, value } of rdn) {
      if (oid === '2.5.4.5') {
        const m = /^(?:16)?([0-9]{10})$/.exec(value.trim());
        if (m) return m[1];
      }
      if (oid === '2.5.4.97') {
        const m = /^NTRSE-([0-9]{10})$/.exec(value.trim());
        if (m) return m[1];
      }
    }
  }
  return undefined;
}

/** The first certificate of a PEM (leaf), as an X509Certificate. */
export function leafCertificate(pem: string | Buffer): X509Certificate {
  const first = splitPemCertificates(pem)[0];
  if (!first) throw new Error('no certificate in PEM');
  return new X509Certificate(first);
}
