// `npm start` in development (issue 6, SDK wiring): with SIMULATORS the gateway seeds one inbox of our own with
// grants for the dev clients, and runs a simulated peer organisation on the loopback access point — so a case
// system can send to the peer's function address straight away and see the peer's ACCEPTED receipt.
import { startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/logger.js';

describe('SDK after a development start', () => {
  let t: TestGateway;
  beforeAll(async () => { t = await startTestGateway({ NODE_ENV: 'development' }); }, 90000);
  afterAll(async () => { await t.stop(); });

  it('lets the dev case system send from the seeded inbox to the simulated peer and see ACCEPTED', async () => {
    const { participant, peer } = t.gw.sdk;
    expect(participant).toBe('0007:2120000000');
    expect(peer).toBeDefined();
    const token = await systemToken(t.gw, 'case-system', 'dev-case-secret', ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage']);
    const res = await fetch(`${t.gw.url}/v1/sdk/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { type: 'messages', attributes: {
        confidentiality: false, label: 'Hej från utvecklingsmiljön', sender: participant, recipient: peer!.participant,
        senderAttention: { subOrganization: { extension: `sdk:inkorg:${participant}` } },
        recipientAttention: { subOrganization: { extension: peer!.functionAddress } },
        digitalDocument: [{ documentId: 'd1', contentTextBody: ['Ett första meddelande.'] }],
      } } }),
    });
    expect(res.status).toBe(201);
    const location = res.headers.get('location')!;
    let status = '';
    await waitFor(async () => {
      const m = (await (await fetch(`${t.gw.url}${location}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { attributes: { messageStatus: string } } };
      status = m.data.attributes.messageStatus;
      return status === 'ACCEPTED' || status === 'MESSAGE_EXCHANGE_ERROR';
    }, 'the peer\'s receipt', 30000, 100);
    expect(status).toBe('ACCEPTED');
  });
});
