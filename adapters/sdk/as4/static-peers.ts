// sdk.md §3 (discovery) for development and tests: a fixed table of peer access points by participant id,
// used when no SMP is configured. Production resolves peers from SMP (adapters/sdk/smp createSmpPeerResolver).
import { sameParticipant } from '../../../src/domain/sdk/identifiers.js';
import type { As4Peer, As4PeerResolver } from './as4.server.js';

export interface StaticPeer extends As4Peer {
  /** Participant ids served by this AP. */
  participants: readonly string[];
  /** Document ids it is registered for; default every document. */
  documentIds?: readonly string[];
}

export function createStaticPeerResolver(peers: readonly StaticPeer[]): As4PeerResolver {
  return async (participant, documentId) => {
    const p = peers.find((x) => x.participants.some((id) => sameParticipant(id, participant)) && (x.documentIds === undefined || x.documentIds.includes(documentId)));
    return p === undefined ? null : { endpointUrl: p.endpointUrl, partyId: p.partyId, certificatePem: p.certificatePem };
  };
}
