// adapters/sdk/smp (sdk.md §3, §16.15–16) against the SMP/CertPub simulator over HTTPS: signed metadata is
// verified against the configured SMP CA, tampered or untrusted metadata is refused, answers are cached with
// expiry, the CertificateDirectory and the AS4 peer resolver read from it — and two AS4 access points find
// each other and each other's certificates through it.
import { Agent, request } from 'undici';
import { MESSAGE_DOCUMENT_ID, RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import type { ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { AccessPointEvent } from '../../../src/ports/sdk.port.js';
import { createAs4AccessPoint, type As4AccessPoint } from '../../../adapters/sdk/as4/index.js';
import {
  createSmpCertificateDirectory,
  createSmpClient,
  createSmpPeerResolver,
  createSmpTrust,
  createStaticSmpLocator,
  readSignedServiceMetadata,
  serviceMetadataUrl,
  SmpMetadataError,
  type SmpClient,
} from '../../../adapters/sdk/smp/index.js';
import { startSmpSimulator, type SmpSimParticipant, type SmpSimulator } from '../../../adapters/sdk/smp/simulator/index.js';
import { AP_PARTY, loadKit, messageService, OURS, PEER1, rogueAccessPointCertificate, sdkMessage, waitFor, type Kit } from '../../unit/sdk-as4/as4-test-kit.js';

let kit: Kit;
let sim: SmpSimulator;
const clients: SmpClient[] = [];

function participants(urls: { ours: string; peer1: string }): SmpSimParticipant[] {
  return [
    { id: OURS.participant, endpoint: { url: urls.ours, certificatePem: kit.cert('org-tls-server') }, certificates: { signingPem: [kit.cert('org-sign')], encryptionPem: [kit.cert('org-enc')] } },
    { id: PEER1.participant, endpoint: { url: urls.peer1, certificatePem: kit.cert('peer1-tls') }, certificates: { signingPem: [kit.cert('peer1-sign')], encryptionPem: [kit.cert('peer1-enc')] } },
  ];
}

function client(over: Partial<Parameters<typeof createSmpClient>[0]> = {}, url = sim.url): SmpClient {
  const c = createSmpClient({ locator: createStaticSmpLocator(url), trust: createSmpTrust(kit.caBundle), tls: { caPem: kit.caBundle }, ...over });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  kit = await loadKit();
  sim = await startSmpSimulator({
    tls: { keyPem: kit.key('smp-tls'), certPem: kit.cert('smp-tls'), caPem: kit.caBundle },
    signer: { keyPem: kit.key('smp-sign'), certPem: kit.cert('smp-sign') },
    participants: participants({ ours: 'https://127.0.0.1:1/as4', peer1: 'https://127.0.0.1:2/as4' }),
  });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const pemBody = (pem: string): string => pem.split('-----END CERTIFICATE-----')[0]!.replace(/-----BEGIN CERTIFICATE-----|\s+/g, '');

describe('SMP client: verified service metadata', () => {
  it('percent-encodes the path (:: and #) and reads endpoint and CertPub certificates from signed metadata', async () => {
    const url = serviceMetadataUrl(sim.url, PEER1.participant, MESSAGE_DOCUMENT_ID);
    expect(url).toContain('/iso6523-actorid-upis%3A%3A0203%3Aregion.dev.example/services/busdox-docid-qns%3A%3A');
    expect(url).toContain('%23%233.0');
    expect(url).not.toContain('#');
    const md = await client().serviceMetadata(PEER1.participant, MESSAGE_DOCUMENT_ID);
    expect(md).not.toBeNull();
    expect(md!.participant).toBe(PEER1.participant);
    expect(md!.document).toBe(MESSAGE_DOCUMENT_ID);
    expect(md!.processes[0]!.endpoints[0]).toMatchObject({ transportProfile: 'digg-transport-as4-v1_0', url: 'https://127.0.0.1:2/as4' });
    expect(pemBody(md!.processes[0]!.endpoints[0]!.certificatePem)).toBe(pemBody(kit.cert('peer1-tls')));
    expect(md!.certpub.encryption.map(pemBody)).toEqual([pemBody(kit.cert('peer1-enc'))]);
    expect(md!.certpub.signing.map(pemBody)).toEqual([pemBody(kit.cert('peer1-sign'))]);
    expect(md!.smpSigner.subject).toContain('CN=DIGG SMP (dev) metadata signing');
    expect(sim.requests).toContain(`/iso6523-actorid-upis::${PEER1.participant}/services/busdox-docid-qns::${MESSAGE_DOCUMENT_ID}`);
  });

  it('implements CertificateDirectory (encryption from the message metadata, signing from the receipt metadata) and the AS4 peer resolver', async () => {
    const c = client();
    const dir = createSmpCertificateDirectory(c, { organizationNumber: async (p) => (p === PEER1.participant ? PEER1.orgnr : undefined) });
    const enc = await dir.encryptionCertificate(PEER1.participant);
    expect(enc).toEqual({ pem: expect.any(String), organizationNumber: PEER1.orgnr });
    expect(pemBody(enc!.pem)).toBe(pemBody(kit.cert('peer1-enc')));
    const signing = await dir.signingCertificates(PEER1.participant);
    expect(signing.map((s) => pemBody(s.pem))).toEqual([pemBody(kit.cert('peer1-sign'))]);
    expect(await dir.encryptionCertificate('0203:unknown.example' as ParticipantId)).toBeNull();
    expect(await dir.signingCertificates('0203:unknown.example' as ParticipantId)).toEqual([]);
    const peer = await createSmpPeerResolver(c)(PEER1.participant, RECEIPT_DOCUMENT_ID);
    expect(peer).toEqual({ endpointUrl: 'https://127.0.0.1:2/as4', partyId: AP_PARTY.peer1, certificatePem: expect.any(String) });
    expect(await createSmpPeerResolver(c, { transportProfile: 'other-profile' })(PEER1.participant, RECEIPT_DOCUMENT_ID)).toBeNull();
  });

  it('caches with expiry, caches "not registered" separately, and coalesces concurrent look-ups', async () => {
    let now = Date.now();
    const c = client({ cacheTtlMs: 60_000, negativeCacheTtlMs: 5_000, clock: () => new Date(now) });
    const count = (): number => sim.requests.filter((r) => r.includes(OURS.participant) && r.includes(RECEIPT_DOCUMENT_ID)).length;
    const before = count();
    await Promise.all([c.serviceMetadata(OURS.participant, RECEIPT_DOCUMENT_ID), c.serviceMetadata(OURS.participant, RECEIPT_DOCUMENT_ID)]);
    await c.serviceMetadata(OURS.participant.toUpperCase(), RECEIPT_DOCUMENT_ID);
    expect(count() - before).toBe(1);
    now += 61_000;
    await c.serviceMetadata(OURS.participant, RECEIPT_DOCUMENT_ID);
    expect(count() - before).toBe(2);

    const unknown = (): number => sim.requests.filter((r) => r.includes('0203:nobody.example')).length;
    expect(await c.serviceMetadata('0203:nobody.example', MESSAGE_DOCUMENT_ID)).toBeNull();
    expect(await c.serviceMetadata('0203:nobody.example', MESSAGE_DOCUMENT_ID)).toBeNull();
    expect(unknown()).toBe(1);
    now += 6_000;
    await c.serviceMetadata('0203:nobody.example', MESSAGE_DOCUMENT_ID);
    expect(unknown()).toBe(2);
  });
});

describe('SMP client refuses', () => {
  async function tamperedSim(afterSign: (xml: string) => string, signer?: { keyPem: string; certPem: string }): Promise<SmpSimulator> {
    return startSmpSimulator({
      tls: { keyPem: kit.key('smp-tls'), certPem: kit.cert('smp-tls'), caPem: kit.caBundle },
      signer: signer ?? { keyPem: kit.key('smp-sign'), certPem: kit.cert('smp-sign') },
      participants: participants({ ours: 'https://127.0.0.1:1/as4', peer1: 'https://127.0.0.1:2/as4' }),
      afterSign,
    });
  }

  it('metadata whose signed content was changed (another encryption certificate swapped in)', async () => {
    const evil = await tamperedSim((xml) => xml.replace(pemBody(kit.cert('peer1-enc')), pemBody(kit.cert('peer2-enc'))));
    try {
      const dir = createSmpCertificateDirectory(client({}, evil.url));
      await expect(dir.encryptionCertificate(PEER1.participant)).rejects.toMatchObject({ code: 'SMP_METADATA_UNTRUSTED', retryable: false, cause: expect.objectContaining({ reason: 'SIGNATURE' }) });
    } finally {
      await evil.close();
    }
  });

  it('metadata signed by a certificate outside the SMP trust, or not the pinned SMP certificate', async () => {
    const rogue = await rogueAccessPointCertificate('Rogue SMP');
    const evil = await tamperedSim((x) => x, rogue);
    try {
      await expect(client({}, evil.url).serviceMetadata(PEER1.participant, MESSAGE_DOCUMENT_ID)).rejects.toMatchObject({ code: 'SMP_METADATA_UNTRUSTED', cause: expect.objectContaining({ reason: 'UNTRUSTED_SIGNER' }) });
    } finally {
      await evil.close();
    }
    // Trusted CA, but we pinned the SMP signer to another certificate.
    const pinned = client({ trust: createSmpTrust(kit.caBundle, [kit.cert('peer1-sign')]) });
    await expect(pinned.serviceMetadata(PEER1.participant, MESSAGE_DOCUMENT_ID)).rejects.toMatchObject({ code: 'SMP_METADATA_UNTRUSTED', cause: expect.objectContaining({ reason: 'UNTRUSTED_SIGNER' }) });
  });

  it('validly signed metadata about another participant or document than asked for, and a DOCTYPE', async () => {
    const res = await request(serviceMetadataUrl(sim.url, PEER1.participant, MESSAGE_DOCUMENT_ID), { dispatcher: new Agent({ connect: { ca: kit.caBundle } }) });
    const body = Buffer.from(await res.body.arrayBuffer());
    const trust = createSmpTrust(kit.caBundle);
    expect(() => readSignedServiceMetadata(body, trust, { participant: PEER1.participant, documentId: MESSAGE_DOCUMENT_ID })).not.toThrow();
    const reasonOf = (f: () => unknown): string => {
      try {
        f();
        return 'ACCEPTED';
      } catch (e) {
        return e instanceof SmpMetadataError ? e.reason : String(e);
      }
    };
    expect(reasonOf(() => readSignedServiceMetadata(body, trust, { participant: OURS.participant, documentId: MESSAGE_DOCUMENT_ID }))).toBe('MISMATCH');
    expect(reasonOf(() => readSignedServiceMetadata(body, trust, { participant: PEER1.participant, documentId: RECEIPT_DOCUMENT_ID }))).toBe('MISMATCH');
    const withDoctype = Buffer.from(body.toString('utf8').replace('?>', '?><!DOCTYPE x [<!ENTITY e "x">]>'));
    expect(reasonOf(() => readSignedServiceMetadata(withDoctype, trust, { participant: PEER1.participant, documentId: MESSAGE_DOCUMENT_ID }))).toBe('NOT_XML');
  });
});

describe('two AS4 access points discovering each other through SMP/CertPub', () => {
  it('seals with the CertPub certificate, routes by SMP and authenticates the sender by its SMP AP certificate', async () => {
    // Start both APs, then register their real endpoints in the SMP.
    const smpClient = client({ cacheTtlMs: 60_000 });
    const resolver = createSmpPeerResolver(smpClient);
    const directory = createSmpCertificateDirectory(smpClient);
    const start = (tls: 'org-tls-server' | 'peer1-tls', party: string, participant: string): Promise<As4AccessPoint> =>
      createAs4AccessPoint({
        partyId: party,
        servedParticipants: [participant],
        signing: { privateKeyPem: kit.key(tls), certificatePem: kit.cert(tls) },
        tls: { keyPem: kit.key(tls), certPem: kit.cert(tls), caPem: kit.caBundle },
        trustedCaPem: kit.caBundle,
        peers: resolver,
        listen: { port: 0 },
      });
    const ours = await start('org-tls-server', AP_PARTY.ours, OURS.participant);
    const peer1 = await start('peer1-tls', AP_PARTY.peer1, PEER1.participant);
    sim.setParticipants(participants({ ours: ours.url!, peer1: peer1.url! }));
    try {
      const events: AccessPointEvent[] = [];
      ours.onStatus((e) => events.push(e));
      const got: Array<{ ok: boolean }> = [];
      const them = messageService(kit, 'peer1', directory);
      peer1.onInbound(async (i) => {
        const v = await them.receive(i.envelope, { originalSender: i.routing.originalSender, finalRecipient: i.routing.finalRecipient });
        got.push({ ok: v.kind === 'message' && v.verdict.status === 'ACCEPTED' });
      });
      const sealed = await messageService(kit, 'ours', directory).seal(sdkMessage('ours', 'peer1'));
      await ours.send(sealed.envelope, sealed.routing);
      await waitFor(() => events.length > 0 && got.length > 0, 'delivery through SMP discovery');
      expect(events).toEqual([expect.objectContaining({ type: 'ACKNOWLEDGED', xheId: sealed.xheId })]);
      expect(got).toEqual([{ ok: true }]);
    } finally {
      sim.setParticipants(participants({ ours: 'https://127.0.0.1:1/as4', peer1: 'https://127.0.0.1:2/as4' }));
      await Promise.all([ours.close(), peer1.close()]);
    }
  });
});
