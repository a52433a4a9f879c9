// The simulators speak the national protocol: their answers validate against the PUBLIC schemas, and the operator
// simulator accepts the reference deliverSecure request that xmlsec1 signed (an independent signer), trusting only
// the reference test CA (../shared/specs/digital-post.md §5.3, §6.5–6.7, §9; style.md convention 6).
import fs from 'node:fs';
import path from 'node:path';
import { createMtlsAgent } from '../../../adapters/shared/mtls-http.js';
import { postSoap } from '../../../adapters/shared/soap.js';
import { loadXsdValidator, type XsdValidatorHandle } from '../../../adapters/shared/xsd-validator.js';
import { startFarSimulator, startMailboxOperatorSimulator, TEST_RECIPIENTS as T, type FarSimulator, type MailboxOperatorSimulator } from '../../../adapters/digital-post/simulator/index.js';
import { loadTestPki, referenceDir, type TestPki } from '../../integration/digital-post-adapters/fixtures.js';

const ref = referenceDir();
const maybe = ref ? it : it.skip;
let pki: TestPki;
let far: FarSimulator;
let op: MailboxOperatorSimulator;
let pubAll: XsdValidatorHandle | undefined;
let agent: ReturnType<typeof createMtlsAgent>;

beforeAll(async () => {
  pki = await loadTestPki();
  const refCa = ref ? fs.readFileSync(path.join(ref, 'examples/sandebud-test-ca.pem'), 'utf8') : pki.caBundle;
  // This operator trusts only the reference test CA for signatures (TLS still uses the dev PKI).
  op = await startMailboxOperatorSimulator({ port: 0, tls: pki.tls('mailbox-a-tls'), signatureTrust: refCa, now: () => new Date('2030-01-01T00:00:00Z') });
  far = await startFarSimulator({ port: 0, tls: pki.tls('far-tls'), operators: { A: { serviceAddress: op.serviceAddress }, B: { serviceAddress: op.serviceAddress } } });
  agent = createMtlsAgent({ tls: pki.tls('org-tls-client') });
  if (ref) pubAll = loadXsdValidator(path.join(ref, 'validate/mm-all.xsd'));
});
afterAll(async () => {
  pubAll?.dispose();
  await agent.close();
  await Promise.all([far.close(), op.close()]);
});

const isReachable = (ids: string[]) =>
  `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><r:isReachable xmlns:r="http://minameddelanden.gov.se/schema/Recipient/v3"><r:senderOrgNr>162021004748</r:senderOrgNr>${ids.map((i) => `<r:recipientId>${i}</r:recipientId>`).join('')}</r:isReachable></soap:Body></soap:Envelope>`;

describe('FaR simulator answers', () => {
  maybe('validate against mm-all.xsd: a normal answer, an applicationFault, and the "faulty" isRegisteredResponse', async () => {
    const scripted = Object.values(T).filter((id) => ![T.FAR_FAULT_5000, T.FAR_SLOW, T.FAR_WRONG_ELEMENT, T.FAR_HTTP_ERROR].includes(id as never));
    for (const ids of [scripted, [T.FAR_FAULT_5000], [T.FAR_WRONG_ELEMENT]]) {
      const a = await postSoap(agent, far.url, isReachable(ids));
      expect(pubAll!.validate(a.body)).toEqual({ valid: true });
    }
  });

  it('refuses a request that is invalid against our contract with a Client fault 5001', async () => {
    const a = await postSoap(agent, far.url, isReachable(['19530323185']));
    expect(a.status).toBe(500);
    expect(a.body.toString()).toContain('<c3:ErrorCode>5001</c3:ErrorCode>');
    expect(far.calls.at(-1)).toMatchObject({ result: 'invalid', faultCode: 5001 });
  });
});

describe('mailbox-operator simulator', () => {
  maybe('accepts the reference deliverSecure request signed by xmlsec1, and its answer validates against mm-all.xsd', async () => {
    const request = fs.readFileSync(path.join(ref!, 'examples/sandebud-deliverSecure-request-signed.xml'));
    const a = await postSoap(agent, op.serviceAddress, request);
    expect(a.status).toBe(200);
    expect(pubAll!.validate(a.body)).toEqual({ valid: true });
    expect(op.deliveries.at(-1)).toMatchObject({ deliveryId: '6f1c2a7e-3b7d-4c8e-9a51-2d0b8e4f7c10', recipient: '195303231855', senderId: '162021004748', receivedDate: '2026-11-23' });
  });

  maybe('refuses the same request tampered, with fault 5002 whose envelope validates against mm-all.xsd', async () => {
    const request = fs.readFileSync(path.join(ref!, 'examples/sandebud-deliverSecure-request-signed.xml'), 'utf8').replace('Beslut om hemtjänst', 'Beslut om hemtjänst!');
    const a = await postSoap(agent, op.serviceAddress, request);
    expect(a.status).toBe(500);
    expect(pubAll!.validate(a.body)).toEqual({ valid: true });
    expect(a.body.toString()).toContain('<c3:ErrorCode>5002</c3:ErrorCode>');
  });
});
