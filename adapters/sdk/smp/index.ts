// sdk.md §3 (SMP/CertPub): the CertificateDirectory port answered from verified SMP metadata, and the AS4 peer
// resolver (receiving AP endpoint + AP certificate) from the same metadata.
//
// * encryption certificate of a recipient  = CertPub encryption-cert in its metadata for the MESSAGE document id;
// * signing certificates of a participant  = CertPub signing-cert in its metadata for the RECEIPT document id
//   (every sender must be registered for receipts);
// * AS4 peer for (participant, document)   = the endpoint with our transport profile for process bdx:noprocess.
import { X509Certificate } from 'node:crypto';
import { MESSAGE_DOCUMENT_ID, PROCESS_ID, RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import type { ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { CertificateDirectory, DirectoryCertificate } from '../../../src/ports/sdk.port.js';
import { createTrustStore, subjectRdns } from '../../shared/x509-trust.js';
import type { SmpClient } from './smp.client.js';
import type { ServiceMetadata, SmpTrust } from './smp.mapper.js';

/** SMP trust from configuration: the SMP CA bundle and, optionally, the pinned SMP signing certificate(s). */
export function createSmpTrust(caPem: string | readonly string[], signerCertificatePem?: readonly string[]): SmpTrust {
  const store = createTrustStore(...(typeof caPem === 'string' ? [caPem] : caPem));
  return signerCertificatePem === undefined ? { store } : { store, signerCertificates: signerCertificatePem.map((p) => new X509Certificate(p)) };
}

export interface SmpDirectoryOptions {
  /** The participant's Swedish organisation number (e.g. from the address book), carried with each certificate. */
  organizationNumber?: (participant: ParticipantId) => Promise<string | undefined>;
}

export function createSmpCertificateDirectory(client: SmpClient, opts: SmpDirectoryOptions = {}): CertificateDirectory {
  const withOrg = async (participant: ParticipantId, pem: string): Promise<DirectoryCertificate> => {
    const nr = opts.organizationNumber ? await opts.organizationNumber(participant) : undefined;
    return nr === undefined ? { pem } : { pem, organizationNumber: nr };
  };
  return {
    async encryptionCertificate(participant) {
      const md = await client.serviceMetadata(participant, MESSAGE_DOCUMENT_ID);
      const pem = md?.certpub.encryption[0];
      return pem === undefined ? null : withOrg(participant, pem);
    },
    async signingCertificates(participant) {
      const md = await client.serviceMetadata(participant, RECEIPT_DOCUMENT_ID);
      return Promise.all((md?.certpub.signing ?? []).map((pem) => withOrg(participant, pem)));
    },
  };
}

/** The CN of a certificate (the AS4 party id of an AP, sdk.md §2). */
export function commonName(pem: string): string | undefined {
  const cert = new X509Certificate(pem);
  const cn = subjectRdns(cert).flat().filter((a) => a.oid === '2.5.4.3');
  return cn[cn.length - 1]?.value;
}

export interface SmpPeerResolverOptions {
  /** Transport profile to use. Default `digg-transport-as4-v1_0`. */
  transportProfile?: string;
  processId?: string;
  clock?: () => Date;
}

/** The endpoint of `md` we would push to now, or undefined. */
export function activeEndpoint(md: ServiceMetadata, opts: SmpPeerResolverOptions = {}): ServiceMetadata['processes'][number]['endpoints'][number] | undefined {
  const profile = opts.transportProfile ?? 'digg-transport-as4-v1_0';
  const process = opts.processId ?? PROCESS_ID;
  const now = (opts.clock ?? (() => new Date()))().getTime();
  return md.processes
    .filter((p) => p.processId === process)
    .flatMap((p) => p.endpoints)
    .find((e) => e.transportProfile === profile && (e.activation === undefined || e.activation.getTime() <= now) && (e.expiration === undefined || now <= e.expiration.getTime()));
}

/**
 * An As4PeerResolver (adapters/sdk/as4) over SMP: endpoint URL, AP certificate and party id (its CN).
 * Structurally typed so that this module does not depend on the AS4 adapter.
 */
export function createSmpPeerResolver(client: SmpClient, opts: SmpPeerResolverOptions = {}): (participant: string, documentId: string) => Promise<{ endpointUrl: string; partyId: string; certificatePem: string } | null> {
  return async (participant, documentId) => {
    const md = await client.serviceMetadata(participant, documentId);
    if (md === null) return null;
    const ep = activeEndpoint(md, opts);
    if (ep === undefined) return null;
    const partyId = commonName(ep.certificatePem);
    if (partyId === undefined) return null;
    return { endpointUrl: ep.url, partyId, certificatePem: ep.certificatePem };
  };
}

export { createSmpClient, serviceMetadataUrl, type SmpClient, type SmpClientOptions } from './smp.client.js';
export { CERTPUB, readSignedServiceMetadata, SmpMetadataError, SMP_NS, type ServiceMetadata, type SmpEndpoint, type SmpTrust } from './smp.mapper.js';
export { applyNaptrRegexp, base32NoPad, bdxlHostname, createDnsSmpLocator, createStaticSmpLocator, type NaptrRecord, type SmpLocator } from './sml.js';
