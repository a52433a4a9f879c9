// FaR isReachable mapping against the reference answers and the §5.4 order (../shared/specs/digital-post.md
// §5.2–5.4, §10 #1–#3, #15; checklist §11 #2, #4–#10, #13).
import fs from 'node:fs';
import path from 'node:path';
import { buildIsReachableRequest, decideReachability, mapIsReachableResponse, type FarEntry } from '../../../adapters/digital-post/recipient/far.mapper.js';
import { parseSoapMessage } from '../../../adapters/shared/soap.js';
import type { RecipientId } from '../../../src/domain/digital-post.js';
import { referenceDir } from '../../integration/digital-post-adapters/fixtures.js';

const ref = referenceDir();
const at = new Date('2026-11-23T10:00:00Z');
const payloadOf = (xml: string | Buffer) => {
  const m = parseSoapMessage(xml);
  if (m.kind !== 'body') throw new Error('expected a body');
  return m.payload;
};
const id = (s: string) => s as RecipientId;

describe('mapping the reference FaR answers', () => {
  const read = (f: string) => fs.readFileSync(path.join(ref ?? '', 'examples', f));
  const maybe = ref ? it : it.skip;

  maybe('maps Sundsvall\'s Kivra answer to REACHABLE at operator 165568402266, keeping the audit fields', () => {
    const answer = mapIsReachableResponse(payloadOf(read('sundsvall-isReachableResponse-kivra.xml')), [id('192301010168')], at);
    expect(answer.outcomes.get(id('192301010168'))).toEqual({
      reachable: true,
      reason: 'REACHABLE',
      operator: { id: '165568402266', name: 'Kivra', serviceAddress: 'http://localhost:9090/deliversecure', uiAddress: 'https://www.kivra.com' },
      record: { lookedUpAt: at, accountType: 'Secure', pending: false, senderAccepted: true, lastRegistration: '2016-10-30T15:38:49.517+01:00' },
    });
  });

  maybe('refuses the same answer\'s http ServiceAdress in production (NO_SERVICE_ADDRESS)', () => {
    const answer = mapIsReachableResponse(payloadOf(read('sundsvall-isReachableResponse-kivra.xml')), [id('192301010168')], at, { requireHttps: true });
    expect(answer.outcomes.get(id('192301010168'))).toMatchObject({ reachable: false, reason: 'NO_SERVICE_ADDRESS', operator: { id: '165568402266' } });
  });

  maybe('treats the templated (non-absolute) ServiceAdress of the company answer as NO_SERVICE_ADDRESS', () => {
    const answer = mapIsReachableResponse(payloadOf(read('sundsvall-isReachableResponse-organisation-templated.xml')), [id('165591628136')], at);
    expect(answer.outcomes.get(id('165591628136'))?.reason).toBe('NO_SERVICE_ADDRESS');
  });

  maybe('treats an isRegisteredResponse to isReachable as a failed lookup, not an answer (§11 #13)', () => {
    expect(() => mapIsReachableResponse(payloadOf(read('sundsvall-isRegisteredResponse.xml')), [id('192301010160')], at)).toThrow(
      expect.objectContaining({ code: 'FAR_UNAVAILABLE', retryable: true }),
    );
  });

  maybe('builds a request equivalent to the reference isReachable request', () => {
    const ids = ['195303231855', '198101052382', '197010632391', '162021003898'].map(id);
    const ours = payloadOf(buildIsReachableRequest('162021004748', ids));
    const theirs = payloadOf(read('sandebud-isReachable-request.xml'));
    const flat = (el: typeof ours) => Array.from({ length: el.childNodes.length }, (_, i) => el.childNodes[i]!).filter((n) => n.nodeType === 1).map((n) => `${n.namespaceURI}|${n.localName}|${n.textContent}`);
    expect(ours.namespaceURI).toBe(theirs.namespaceURI);
    expect(flat(ours)).toEqual(flat(theirs));
  });
});

function entry(over: Partial<FarEntry>): FarEntry {
  return {
    recipientId: '195303231855',
    type: 'Secure',
    pending: false,
    senderAccepted: true,
    serviceSupplier: { id: '165560000001', name: 'A', serviceAddress: 'https://a.example/service/v3' },
    ...over,
  };
}

describe('decideReachability: the §5.4 order (first match wins)', () => {
  const P = id('195303231855');
  it.each<[string, Partial<FarEntry> | undefined, string]>([
    ['no entry → NOT_REGISTERED', undefined, 'NOT_REGISTERED'],
    ['Type=Not with SenderAccepted=false (Sundsvall would say sender not accepted) → NOT_REGISTERED', { type: 'Not', senderAccepted: false, serviceSupplier: undefined }, 'NOT_REGISTERED'],
    ['Anonymous beats SenderAccepted=false → ACCOUNT_NOT_SECURE', { type: 'Anonymous', senderAccepted: false }, 'ACCOUNT_NOT_SECURE'],
    ['SenderAccepted=false beats Pending → SENDER_NOT_ACCEPTED', { senderAccepted: false, pending: true }, 'SENDER_NOT_ACCEPTED'],
    ['Pending beats a missing supplier → PENDING', { pending: true, serviceSupplier: undefined }, 'PENDING'],
    ['no ServiceSupplier → NO_SERVICE_SUPPLIER', { serviceSupplier: undefined }, 'NO_SERVICE_SUPPLIER'],
    ['blank ServiceAdress → NO_SERVICE_ADDRESS', { serviceSupplier: { id: '165560000001', name: 'A', serviceAddress: '   ' } }, 'NO_SERVICE_ADDRESS'],
    ['a relative ServiceAdress → NO_SERVICE_ADDRESS', { serviceSupplier: { id: '165560000001', name: 'A', serviceAddress: 'service/v3' } }, 'NO_SERVICE_ADDRESS'],
    ['a non-http scheme → NO_SERVICE_ADDRESS', { serviceSupplier: { id: '165560000001', name: 'A', serviceAddress: 'ftp://a.example/' } }, 'NO_SERVICE_ADDRESS'],
    ['everything in order → REACHABLE', {}, 'REACHABLE'],
  ])('%s', (_name, over, reason) => {
    expect(decideReachability(P, over === undefined ? undefined : entry(over), at).reason).toBe(reason);
  });

  it('applies the optional policies after the address check, operator allow-list before age', () => {
    const young = id('201212121212');
    const policy = { allowedOperatorIds: ['5560000019'], minimumAge: 18, today: at };
    expect(decideReachability(young, entry({ serviceSupplier: { id: '165560000001', name: 'A', serviceAddress: '' } }), at, policy).reason).toBe('NO_SERVICE_ADDRESS');
    expect(decideReachability(young, entry({}), at, policy).reason).toBe('OPERATOR_NOT_ALLOWED');
    expect(decideReachability(young, entry({ serviceSupplier: { id: '165560000019', name: 'B', serviceAddress: 'https://b.example/' } }), at, policy).reason).toBe('RECIPIENT_UNDER_18');
    expect(decideReachability(P, entry({ serviceSupplier: { id: '165560000019', name: 'B', serviceAddress: 'https://b.example/' } }), at, policy).reason).toBe('REACHABLE');
  });

  it('computes a samordningsnummer\'s age from day − 60 and never applies the age rule to organisations', () => {
    const policy = { minimumAge: 18, today: at };
    expect(decideReachability(id('197010632391'), entry({}), at, policy).reason).toBe('REACHABLE');
    expect(decideReachability(id('162021003898'), entry({}), at, policy).reason).toBe('REACHABLE');
  });

  it('identifies the operator by ServiceSupplier/Id and trims the service address', () => {
    const o = decideReachability(P, entry({ serviceSupplier: { id: '165568402266', name: 'sandbox-mm.kivra.com', serviceAddress: ' https://sandbox-mm.kivra.com/service/v3 ' } }), at);
    expect(o).toMatchObject({ reachable: true, operator: { id: '165568402266', serviceAddress: 'https://sandbox-mm.kivra.com/service/v3' } });
  });
});

describe('mapIsReachableResponse', () => {
  const R = 'http://minameddelanden.gov.se/schema/Recipient';
  const R3 = 'http://minameddelanden.gov.se/schema/Recipient/v3';
  const ret = (rid: string, type: string, accepted: boolean, supplier = true) =>
    `<a:return><b:AccountStatus><b:RecipientId>${rid}</b:RecipientId><b:Type>${type}</b:Type><b:Pending>false</b:Pending>` +
    (supplier ? `<b:ServiceSupplier><b:Id>165560000001</b:Id><b:Name>A</b:Name><b:ServiceAdress>https://a.example/</b:ServiceAdress><b:InternalServiceAdress/></b:ServiceSupplier>` : '') +
    `</b:AccountStatus><b:SenderAccepted>${accepted}</b:SenderAccepted></a:return>`;
  const answer = (entries: string) =>
    `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><a:isReachableResponse xmlns:a="${R3}" xmlns:b="${R}">${entries}</a:isReachableResponse></S:Body></S:Envelope>`;

  it('matches entries by RecipientId, not by position (§11 #4)', () => {
    const ids = [id('195303231855'), id('198101052382')];
    const inOrder = mapIsReachableResponse(payloadOf(answer(ret('195303231855', 'Secure', true) + ret('198101052382', 'Not', false, false))), ids, at);
    const reversed = mapIsReachableResponse(payloadOf(answer(ret('198101052382', 'Not', false, false) + ret('195303231855', 'Secure', true))), ids, at);
    expect([...reversed.outcomes.entries()]).toEqual([...inOrder.outcomes.entries()]);
    expect(inOrder.outcomes.get(ids[0]!)?.reason).toBe('REACHABLE');
    expect(inOrder.outcomes.get(ids[1]!)?.reason).toBe('NOT_REGISTERED');
  });

  it('gives NOT_REGISTERED to an id FaR left out and ignores entries nobody asked for (§11 #5, §5.4)', () => {
    const a = mapIsReachableResponse(payloadOf(answer(ret('192705178354', 'Secure', true))), [id('195303231855')], at);
    expect(a.outcomes.get(id('195303231855'))?.reason).toBe('NOT_REGISTERED');
    expect(a.outcomes.size).toBe(1);
    expect(a.unexpectedEntries).toBe(1);
  });

  it('treats an empty answer as NOT_REGISTERED for every id (§10 #15)', () => {
    const a = mapIsReachableResponse(payloadOf(answer('')), [id('195303231855'), id('198101052382')], at);
    expect([...a.outcomes.values()].map((o) => o.reason)).toEqual(['NOT_REGISTERED', 'NOT_REGISTERED']);
  });

  it('fails the lookup on a malformed entry rather than guessing', () => {
    expect(() => mapIsReachableResponse(payloadOf(answer(ret('195303231855', 'Gold', true))), [id('195303231855')], at)).toThrow(expect.objectContaining({ code: 'FAR_UNAVAILABLE' }));
  });
});

describe('buildIsReachableRequest', () => {
  it('refuses more than 1,000 ids, duplicates and a sender without the 16 prefix (§11 #1–#2)', () => {
    const many = Array.from({ length: 1001 }, (_, i) => id(`1890010${String(i).padStart(5, '0')}`));
    expect(() => buildIsReachableRequest('162120000000', many)).toThrow(/1000/);
    expect(() => buildIsReachableRequest('162120000000', [id('195303231855'), id('195303231855')])).toThrow(/distinct/);
    expect(() => buildIsReachableRequest('2120000000', [id('195303231855')])).toThrow(/16/);
  });
});
