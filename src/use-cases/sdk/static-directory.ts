// sdk.md §3 (CertPub): a fixed CertificateDirectory built from configuration. It stands in for the SMP/CertPub
// adapter (not built yet) in development and in the loopback set-up: our own organisation's certificates and,
// with the simulators, the simulated peer's. Lookups are case-insensitive on the participant id (§2).
import type { CertificateDirectory, DirectoryCertificate } from '../../ports/sdk.port.js';

export interface DirectoryEntry {
  /** Signing certificate(s) (PEM), as CertPub publishes them for the receipt document id. */
  signing: string[];
  /** Encryption certificate (PEM), as CertPub publishes it for the message document id. */
  encryption?: string;
  /** Organisation number, matched against the certificate's organizationIdentifier NTRSE-<nr>. */
  organizationNumber?: string;
}

export function staticCertificateDirectory(entries: Record<string, DirectoryEntry>): CertificateDirectory {
  const byId = new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]));
  const cert = (pem: string, e: DirectoryEntry): DirectoryCertificate => (e.organizationNumber !== undefined ? { pem, organizationNumber: e.organizationNumber } : { pem });
  return {
    async encryptionCertificate(participant) {
      const e = byId.get(participant.toLowerCase());
      return e?.encryption !== undefined ? cert(e.encryption, e) : null;
    },
    async signingCertificates(participant) {
      const e = byId.get(participant.toLowerCase());
      return e === undefined ? [] : e.signing.map((pem) => cert(pem, e));
    },
  };
}
