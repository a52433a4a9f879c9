// Optional mutual TLS for systems (issue 4 "Systems"; oidc-loa3.md §6.6): when MTLS_CLIENT_CA_FILE is set, a
// bearer call must also arrive over a TLS connection whose client certificate chains to that CA. The lead's
// HTTPS server asks for (but does not demand) a certificate, because people's browsers have none.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { Config } from '../config/index.js';
import { resolvePath } from '../config/index.js';

export interface ClientCertificate {
  subject: string;
  /** SHA-256 fingerprint as Node prints it (colon-separated hex). */
  fingerprint256: string;
  serialNumber: string;
}

/** Split a PEM bundle into certificates. */
export function loadCaBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * Options to spread into `https.createServer` when MTLS_CLIENT_CA_FILE is set (undefined otherwise):
 * request a client certificate, but let the handshake succeed without one so browsers still reach the console;
 * clientCertificate() then decides per request.
 */
export function mtlsServerOptions(config: Config): { ca: string; requestCert: true; rejectUnauthorized: false } | undefined {
  if (config.MTLS_CLIENT_CA_FILE === undefined) return undefined;
  return { ca: readFileSync(resolvePath(config, config.MTLS_CLIENT_CA_FILE), 'utf8'), requestCert: true, rejectUnauthorized: false };
}

function isTlsSocket(s: unknown): s is TLSSocket {
  return typeof s === 'object' && s !== null && 'getPeerCertificate' in s && typeof (s as TLSSocket).getPeerCertificate === 'function';
}

/**
 * The verified client certificate of this request, or undefined. Requires that the TLS stack authorised the
 * peer AND that the leaf is issued by one of `trusted` (the MTLS_CLIENT_CA_FILE bundle) and currently valid —
 * the second check keeps the decision ours even if the server was given a broader `ca` list.
 */
export function clientCertificate(req: Request, trusted: readonly X509Certificate[]): ClientCertificate | undefined {
  const socket: unknown = req.socket;
  if (!isTlsSocket(socket) || !socket.authorized) return undefined;
  const peer = socket.getPeerCertificate(false);
  if (peer === null || typeof peer !== 'object' || peer.raw === undefined) return undefined;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(peer.raw);
  } catch {
    return undefined;
  }
  const now = Date.now();
  if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now) return undefined;
  const issuedByTrusted = trusted.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (!issuedByTrusted) return undefined;
  return { subject: leaf.subject, fingerprint256: leaf.fingerprint256, serialNumber: leaf.serialNumber };
}
