// Signing and validation through the real gateway (issue 8 "Must show"; ../shared/specs/signing.md §2 flow, §4
// binding, §5.3 consume-once, §9 validation, §6.4 seal): a case system asks, the browser steps (sign URL → signing
// service simulator → the dev identity provider's login → simulator → response endpoint) are driven as form POSTs
// and redirects over HTTP(S), then the result is validated through the API with the configured trust. Real
// PostgreSQL, Redis, dev identity provider tokens and logins, and the HTTPS simulator.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolvePath } from '../../src/config/index.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { DEV_ACR, DEV_PASSWORD } from '../../adapters/identity/simulator/index.js';
import { makePdf, OTHER_PNR, parseAutoPostForm, SAMPLE_XML, TEST_PNR } from '../fixtures/signing/kit.js';
import { startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';

const SCOPES = ['urn:sandebud:signing:sign', 'urn:sandebud:signing:validate'];
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

interface SigningRequest {
  id: string; status: string; statusUrl: string; signUrl: string | null; signer: { personalIdentityNumber: string };
  document: { format: string; signatureFormat: string; sha256: string };
  error: { code: string; message: string | null } | null;
  result: null | {
    signer: { givenName: string | null; surname: string | null; loa: string; identityProvider: string };
    document: { content: string; contentType: string; detached: boolean; sha256: string };
    report: { verdict: string; signatures: { status: string; format: string; level: string; signer: { givenName: string | null } | null }[] };
    validationId: string; validationUrl: string;
  };
}
interface SignatureReport { status: string; reason: string; format: string; level: string; signer: Record<string, string> | null; signedAt: { claimed: string | null }; chain: { subject: string; trustAnchor: boolean }[]; revocation: { status: string; source: string | null } }
interface Validation { id: string; source: string; documentSha256: string; detachedContentSha256: string | null; verdict: string; reason: string; validatorVersion: string; evidenceUrl: string; report: { verdict: string; reason: string; documentSha256: string; signatures: SignatureReport[] } }

describe('signing and validation through the gateway', () => {
  let t: TestGateway;
  let token: string;
  let caBundle: string;
  let n = 0;

  beforeAll(async () => {
    t = await startTestGateway();
    token = await systemToken(t.gw, 'case-system', 'dev-case-secret', SCOPES);
    caBundle = readFileSync(resolvePath(t.gw.config, t.gw.config.TRUST_CA_FILE), 'utf8');
    // The signers of these tests log in at the dev identity provider (at LoA3) during signing: two test personas.
    const persona = (username: string, pnr: string, givenName: string, familyName: string) => ({
      username, password: DEV_PASSWORD, sub: username, acr: DEV_ACR.loa3, givenName, familyName, personalIdentityNumber: pnr, description: 'signing test persona',
    });
    t.gw.world!.idp.users.push(persona('tess', TEST_PNR, 'Tess', 'Testsson'), persona('other', OTHER_PNR, 'Otto', 'Annan'));
  }, 90000);
  afterAll(async () => { await t?.stop(); });

  const api = (path: string, init: { method?: string; body?: unknown; key?: string; token?: string } = {}) => fetch(`${t.gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? token}`, 'content-type': 'application/json', ...(init.key ? { 'idempotency-key': init.key } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

  const key = () => `sig-key-${Date.now()}-${n++}`;
  const requestBody = (content: Uint8Array | string, contentType: string, extra: Record<string, unknown> = {}) => ({
    document: { content: b64(content), contentType }, signer: { personalIdentityNumber: TEST_PNR }, signMessage: 'Beslut om bistånd', caseReference: 'SN 2026/4', ...extra,
  });

  async function create(body: unknown): Promise<SigningRequest> {
    const res = await api('/v1/signing/requests', { method: 'POST', body, key: key() });
    expect(res.status).toBe(202);
    return (await res.json()) as SigningRequest;
  }
  const status = async (id: string) => (await (await api(`/v1/signing/requests/${id}`)).json()) as SigningRequest;
  async function validate(document: Uint8Array, detachedContent?: Uint8Array): Promise<Validation> {
    const res = await api('/v1/signing/validations', { method: 'POST', body: { document: b64(document), ...(detachedContent ? { detachedContent: b64(detachedContent) } : {}) } });
    expect(res.status).toBe(201);
    return (await res.json()) as Validation;
  }

  /**
   * The signer's browser at the signing service: post the form, follow the redirects to the dev identity provider's
   * login page, log in as `username` (or cancel there), follow the redirects back to the simulator's answer.
   */
  async function atSigningService(action: string, fields: Record<string, string>, login: { username: string; cancel?: boolean }): Promise<{ status: number; body: string }> {
    const agent = new Agent({ connect: { ca: caBundle } });
    const jar = new Map<string, Map<string, string>>();
    const go = async (url: string, form?: Record<string, string>): Promise<{ status: number; url: string; body: string }> => {
      let current = url;
      let body = form === undefined ? undefined : new URLSearchParams(form).toString();
      for (let hop = 0; hop < 15; hop++) {
        const cookies = jar.get(new URL(current).origin) ?? new Map<string, string>();
        jar.set(new URL(current).origin, cookies);
        const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' };
        if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await undiciFetch(current, { method: body === undefined ? 'GET' : 'POST', headers, body, redirect: 'manual', dispatcher: agent });
        for (const line of res.headers.getSetCookie()) {
          const [pair = '', ...attrs] = line.split(';');
          const name = pair.slice(0, pair.indexOf('=')).trim();
          const value = pair.slice(pair.indexOf('=') + 1).trim();
          if (value === '' || attrs.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a))) cookies.delete(name);
          else cookies.set(name, value);
        }
        const location = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || location === null) return { status: res.status, url: current, body: await res.text() };
        await res.arrayBuffer();
        current = new URL(location, current).href;
        body = undefined;
      }
      throw new Error('too many redirects');
    };
    try {
      // The service answers with a page that moves on to the identity provider (a meta refresh, not a redirect).
      const atService = await go(action, fields);
      const onward = /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(atService.body)?.[1];
      if (onward === undefined) throw new Error(`signing service answered ${atService.status}: ${atService.body.slice(0, 300)}`);
      const loginPage = await go(onward.replace(/&amp;/g, '&'));
      expect(loginPage.url.startsWith(`${t.gw.world!.idp.issuer}/interaction/`)).toBe(true);
      const uid = /action="\/interaction\/([^/"]+)\/login"/.exec(loginPage.body)?.[1];
      if (uid === undefined) throw new Error(`no login form at ${loginPage.url} (${loginPage.status}): ${loginPage.body.slice(0, 300)}`);
      const interaction = new URL(`/interaction/${uid}/`, loginPage.url).href;
      const done = login.cancel ? await go(`${interaction}abort`, {}) : await go(`${interaction}login`, { username: login.username, password: DEV_PASSWORD });
      expect(done.url.startsWith(`${new URL(action).origin}/oidc/callback?`)).toBe(true);
      return { status: done.status, body: done.body };
    } finally {
      await agent.close();
    }
  }

  /** The browser steps: sign URL → auto-posted form to the signing service → login there → auto-posted response back to us. */
  async function browserSteps(signUrl: string, login: { username: string; cancel?: boolean } = { username: 'tess' }): Promise<{ status: number; page: string; responseFields: Record<string, string>; signPageCsp: string | null }> {
    const signPage = await fetch(signUrl);
    expect(signPage.status).toBe(200);
    const html = await signPage.text();
    const toService = parseAutoPostForm(html);
    expect(toService.action).toBe(t.gw.simulators.signingService);
    const atService = await atSigningService(toService.action, toService.fields, login);
    expect(atService.status).toBe(200);
    const back = parseAutoPostForm(atService.body);
    expect(back.action).toBe(`${t.gw.url}/v1/signing/responses`); // posted back to our Audience only
    const res = await postBack(back.fields);
    return { ...res, responseFields: back.fields, signPageCsp: signPage.headers.get('content-security-policy') };
  }
  async function postBack(fields: Record<string, string>): Promise<{ status: number; page: string }> {
    const res = await fetch(`${t.gw.url}/v1/signing/responses`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.gw.simulators.signingService!).origin }, body: new URLSearchParams(fields).toString() });
    return { status: res.status, page: await res.text() };
  }
  const pageStatus = (page: string) => /data-status="([A-Z]+)"/.exec(page)?.[1];
  const pageCode = (page: string) => /id="signing-code">([A-Z_]+)</.exec(page)?.[1];

  const pdfPromise = makePdf('Beslut om bistånd');
  const cmsContent = Buffer.from('Bilaga: protokoll 2026-11-23\n');

  describe.each([
    ['XML → XAdES', 'xml', 'application/xml', 'XAdES'],
    ['PDF → PAdES', 'pdf', 'application/pdf', 'PAdES'],
    ['text → detached CAdES', 'cms', 'text/plain; charset=utf-8', 'CAdES'],
  ])('round trip %s', (_name, format, contentType, signatureFormat) => {
    let original: Buffer;
    let signed: SigningRequest;
    let signedBytes: Buffer;

    it('is asked for, signed in the (simulated) browser and SIGNED with our own valid report', async () => {
      original = format === 'xml' ? Buffer.from(SAMPLE_XML) : format === 'pdf' ? await pdfPromise : cmsContent;
      const before = t.gw.world!.signing.received.length;
      const created = await create(requestBody(original, contentType));
      expect(created).toMatchObject({ status: 'PENDING', signer: { personalIdentityNumber: '19780203****' }, document: { format, signatureFormat, sha256: sha256(original) }, error: null, result: null });
      expect(created.signUrl).toMatch(new RegExp(`^${t.gw.url}/v1/signing/requests/${created.id}/sign\\?token=[A-Za-z0-9_-]{43}$`));

      const steps = await browserSteps(created.signUrl!);
      expect(steps.status).toBe(200);
      expect(pageStatus(steps.page)).toBe('SIGNED');
      // The sign page allows exactly one nonce'd script and posts only to the signing service.
      expect(steps.signPageCsp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
      expect(steps.signPageCsp).toContain(`form-action ${new URL(t.gw.simulators.signingService!).origin}`);
      // The service was asked once, for the named signer, with one task of the right type.
      const asked = t.gw.world!.signing.received.slice(before);
      expect(asked.map((r) => [r.requestedSigner, r.tasks.map((x) => x.sigType)])).toEqual([[TEST_PNR, [format.toUpperCase()]]]);

      signed = await status(created.id);
      expect(signed).toMatchObject({ status: 'SIGNED', signUrl: null, error: null });
      expect(signed.result).toMatchObject({
        signer: { givenName: 'Tess', surname: 'Testsson', loa: 'http://id.elegnamnden.se/loa/1.0/loa3' },
        document: { detached: format === 'cms' },
        report: { verdict: 'valid', signatures: [{ status: 'valid', format: signatureFormat, level: 'B-B', signer: { givenName: 'Tess' } }] },
      });
      signedBytes = Buffer.from(signed.result!.document.content, 'base64');
      expect(signed.result!.document.sha256).toBe(sha256(signedBytes));
      // Our check of the result is kept as evidence too, linked to the request.
      const kept = (await (await api(signed.result!.validationUrl)).json()) as Validation;
      expect(kept).toMatchObject({ source: 'signing', verdict: 'valid', documentSha256: sha256(signedBytes) });
      const events = await t.db.pool.query<{ status: string }>('SELECT status FROM delivery_events WHERE delivery_id = $1 ORDER BY id', [created.id]);
      expect(events.rows.map((r) => r.status)).toEqual(['RECEIVED', 'DELIVERED']);
      const receipts = await t.db.pool.query<{ kind: string; raw: Buffer }>('SELECT kind, raw FROM receipts WHERE delivery_id = $1', [created.id]);
      expect(receipts.rows.map((r) => r.kind)).toEqual(['sign-response']);
      expect(receipts.rows[0]!.raw.toString('utf8')).toContain('SignResponse');
    }, 30000);

    it('validates through the API as valid with the right signer, and the evidence is kept', async () => {
      const v = await validate(signedBytes, format === 'cms' ? original : undefined);
      expect(v).toMatchObject({ source: 'api', verdict: 'valid', reason: 'TOTAL_PASSED', documentSha256: sha256(signedBytes), detachedContentSha256: format === 'cms' ? sha256(original) : null });
      const s = v.report.signatures[0]!;
      expect(v.report.signatures).toHaveLength(1);
      expect(s).toMatchObject({ status: 'valid', format: signatureFormat, level: 'B-B', signer: { personnummer: TEST_PNR, givenName: 'Tess', surname: 'Testsson' }, revocation: { status: 'good', source: 'CRL' } });
      expect(s.chain.at(-1)!.trustAnchor).toBe(true);
      expect(s.signedAt.claimed).not.toBeNull();
      const { rows } = await t.db.pool.query<{ document_sha256: string; verdict: string; validator_version: string; validated_at: Date; report: { verdict: string } }>(
        'SELECT document_sha256, verdict, validator_version, validated_at, report FROM signature_validations WHERE id = $1', [v.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ document_sha256: sha256(signedBytes), verdict: 'valid', validator_version: v.validatorVersion, report: { verdict: 'valid' } });
      expect(Math.abs(rows[0]!.validated_at.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await (await api(`/v1/signing/validations/${v.id}`)).json()).toEqual(v);
    });

    it('a tampered document is never valid through the API', async () => {
      let v: Validation;
      if (format === 'xml') v = await validate(Buffer.from(signedBytes.toString('utf8').replace('<Belopp>100</Belopp>', '<Belopp>900</Belopp>')));
      else if (format === 'pdf') {
        const tampered = Buffer.from(signedBytes);
        tampered[7] = tampered[7] === 0x37 ? 0x36 : 0x37; // a byte of the %PDF-1.x header, inside the signed range
        v = await validate(tampered);
      } else v = await validate(signedBytes, Buffer.from(cmsContent.toString('utf8').replace('2026', '2027')));
      expect(v.verdict).toBe('invalid');
      expect(v.report.signatures.every((s) => s.status !== 'valid')).toBe(true);
      expect(v.reason).toBe('HASH_FAILURE');
    });
  });

  it('consumes each response once: a replay changes nothing', async () => {
    const created = await create(requestBody(SAMPLE_XML, 'application/xml'));
    const steps = await browserSteps(created.signUrl!);
    expect(pageStatus(steps.page)).toBe('SIGNED');
    const replay = await postBack(steps.responseFields);
    expect(replay.status).toBe(409);
    expect(pageCode(replay.page)).toBe('SIGNING_RESPONSE_REPLAYED');
    expect((await status(created.id)).status).toBe('SIGNED');
    // The sign URL of a final request only says so.
    const again = await fetch(created.signUrl!);
    expect(again.status).toBe(409);
    expect(pageStatus(await again.text())).toBe('SIGNED');
    const { rows } = await t.db.pool.query('SELECT 1 FROM signature_validations WHERE signing_request_id = $1', [created.id]);
    expect(rows).toHaveLength(1);
  }, 30000);

  it('another person at the signing service → FAILED with SIGNING_USER_MISMATCH; the request stays failed', async () => {
    const created = await create(requestBody(SAMPLE_XML, 'application/xml'));
    const steps = await browserSteps(created.signUrl!, { username: 'other' });
    expect(steps.status).toBe(403);
    expect(pageCode(steps.page)).toBe('SIGNING_USER_MISMATCH');
    const s = await status(created.id);
    expect(s).toMatchObject({ status: 'FAILED', signUrl: null, result: null, error: { code: 'SIGNING_USER_MISMATCH' } });
    const events = await t.db.pool.query<{ status: string; reason: string | null }>('SELECT status, reason FROM delivery_events WHERE delivery_id = $1 ORDER BY id', [created.id]);
    expect(events.rows.at(-1)).toEqual({ status: 'FAILED', reason: 'SIGNING_USER_MISMATCH' });
  }, 30000);

  it('the signer cancels → FAILED with SIGNING_USER_CANCELLED', async () => {
    const created = await create(requestBody(await pdfPromise, 'application/pdf'));
    const steps = await browserSteps(created.signUrl!, { username: 'tess', cancel: true });
    expect(steps.status).toBe(409);
    expect((await status(created.id))).toMatchObject({ status: 'FAILED', error: { code: 'SIGNING_USER_CANCELLED' } });
  }, 30000);

  it('a forged response (not signed by the service) is refused and leaves the request PENDING; the signer can still sign', async () => {
    const created = await create(requestBody(cmsContent, 'text/plain'));
    const signPage = parseAutoPostForm(await (await fetch(created.signUrl!)).text());
    const requestXml = Buffer.from(signPage.fields.EidSignRequest!, 'base64').toString('utf8');
    const requestId = /RequestID="([0-9a-f]+)"/.exec(requestXml)![1]!;
    const forged = `<?xml version="1.0"?><dss:SignResponse xmlns:dss="urn:oasis:names:tc:dss:1.0:core:schema" Profile="http://id.elegnamnden.se/csig/1.1/dss-ext/profile" RequestID="${requestId}"><dss:Result><dss:ResultMajor>urn:oasis:names:tc:dss:1.0:resultmajor:Success</dss:ResultMajor></dss:Result></dss:SignResponse>`;
    const refused = await postBack({ Binding: 'POST/XML/1.0', RelayState: requestId, EidSignResponse: b64(forged) });
    expect(refused.status).toBe(400);
    expect(pageCode(refused.page)).toBe('SIGNING_RESPONSE_SIGNATURE_INVALID');
    expect((await status(created.id)).status).toBe('PENDING');
    // An unknown RelayState is refused too, and changes nothing.
    const unknown = await postBack({ Binding: 'POST/XML/1.0', RelayState: 'a'.repeat(48), EidSignResponse: b64(forged) });
    expect([unknown.status, pageCode(unknown.page)]).toEqual([400, 'SIGNING_RESPONSE_REQUEST_MISMATCH']);
    const steps = await browserSteps(created.signUrl!);
    expect(pageStatus(steps.page)).toBe('SIGNED');
    const attempts = await t.db.pool.query<{ outcome: string | null; consumed: boolean }>('SELECT outcome, consumed_at IS NOT NULL AS consumed FROM signing_attempts WHERE request_id = $1 ORDER BY created_at', [created.id]);
    expect(attempts.rows).toEqual([{ outcome: 'SIGNING_RESPONSE_SIGNATURE_INVALID', consumed: true }, { outcome: 'SIGNED', consumed: true }]);
  }, 30000);

  it('a wrong sign-URL token looks like an unknown request (404 page), and creates no attempt', async () => {
    const created = await create(requestBody(SAMPLE_XML, 'application/xml'));
    const wrong = created.signUrl!.replace(/token=.*/, `token=${'A'.repeat(43)}`);
    const res = await fetch(wrong);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const { rows } = await t.db.pool.query('SELECT 1 FROM signing_attempts WHERE request_id = $1', [created.id]);
    expect(rows).toHaveLength(0);
  });

  it('a request nobody signed before expiresAt becomes EXPIRED (delivery CANCELLED) and its sign URL says so', async () => {
    const created = await create(requestBody(SAMPLE_XML, 'application/xml'));
    await t.db.pool.query("UPDATE signing_requests SET expires_at = now() - interval '1 second' WHERE id = $1", [created.id]);
    expect(await status(created.id)).toMatchObject({ status: 'EXPIRED', signUrl: null, error: { code: 'SIGNING_REQUEST_EXPIRED' } });
    const page = await fetch(created.signUrl!);
    expect(page.status).toBe(409);
    expect(pageStatus(await page.text())).toBe('EXPIRED');
    const events = await t.db.pool.query<{ status: string; reason: string | null }>('SELECT status, reason FROM delivery_events WHERE delivery_id = $1 ORDER BY id', [created.id]);
    expect(events.rows.at(-1)).toEqual({ status: 'CANCELLED', reason: 'SIGNING_REQUEST_EXPIRED' });
  });

  it('is idempotent per Idempotency-Key: same body → same request (200); another body → 409', async () => {
    const k = key();
    const body = requestBody(SAMPLE_XML, 'application/xml');
    const first = await api('/v1/signing/requests', { method: 'POST', body, key: k });
    const second = await api('/v1/signing/requests', { method: 'POST', body, key: k });
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(((await second.json()) as SigningRequest).id).toBe(((await first.json()) as SigningRequest).id);
    const other = await api('/v1/signing/requests', { method: 'POST', body: { ...body, signMessage: 'Annat beslut' }, key: k });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  describe('bad input → 400 naming the field, nothing stored', () => {
    const counts = async () => {
      const q = async (sql: string) => Number((await t.db.pool.query<{ n: string }>(sql)).rows[0]!.n);
      return [await q('SELECT count(*) AS n FROM signing_requests'), await q("SELECT count(*) AS n FROM deliveries WHERE kind = 'signing'"), await q('SELECT count(*) AS n FROM signature_validations')];
    };

    it.each([
      ['content not base64', { document: { content: 'not base64!', contentType: 'application/pdf' } }, '/body/document/content'],
      ['content missing', { document: { contentType: 'application/pdf' } }, '/body/document/content'],
      ['a PDF that is not one', { document: { content: b64('hello'), contentType: 'application/pdf' } }, '/body/document/content'],
      ['XML that does not parse', { document: { content: b64('<a><b></a>'), contentType: 'application/xml' } }, '/body/document/content'],
      ['XML with a DOCTYPE', { document: { content: b64('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'), contentType: 'text/xml' } }, '/body/document/content'],
      ['a malformed personnummer', { signer: { personalIdentityNumber: '197802031878' } }, '/body/signer/personalIdentityNumber'],
      ['no sign message', { signMessage: '' }, '/body/signMessage'],
      ['a personnummer in the sign message', { signMessage: 'Beslut för 19780203-1877' }, '/body/signMessage'],
      ['a bad content type', { document: { content: b64('x'), contentType: 'pdf' } }, '/body/document/contentType'],
      ['an unknown property', { extra: true }, '/body/extra'],
    ])('sign request with %s', async (_what, patch, field) => {
      const before = await counts();
      const res = await api('/v1/signing/requests', { method: 'POST', body: { ...requestBody(SAMPLE_XML, 'application/xml'), ...patch }, key: key() });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { code: string; errors: { field: string }[] };
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors.map((e) => e.field)).toContain(field);
      expect(await counts()).toEqual(before);
    });

    it('the signer must be named', async () => {
      const before = await counts();
      const { signer: _omit, ...body } = requestBody(SAMPLE_XML, 'application/xml');
      const res = await api('/v1/signing/requests', { method: 'POST', body, key: key() });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['/body/signer']);
      expect(await counts()).toEqual(before);
    });

    it.each([
      ['document not base64', { document: 'a b c' }, '/body/document'],
      ['document missing', {}, '/body/document'],
      ['detached content not base64', { document: b64('<a/>'), detachedContent: '!!!!' }, '/body/detachedContent'],
    ])('validation with %s', async (_what, body, field) => {
      const before = await counts();
      const res = await api('/v1/signing/validations', { method: 'POST', body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
      expect(await counts()).toEqual(before);
    });
  });

  it('needs the signing scopes: a token without them gets 403', async () => {
    const other = await systemToken(t.gw, 'case-system', 'dev-case-secret', ['urn:sandebud:digital-post:read']);
    expect((await api('/v1/signing/requests', { method: 'POST', body: requestBody(SAMPLE_XML, 'application/xml'), key: key(), token: other })).status).toBe(403);
    expect((await api('/v1/signing/validations', { method: 'POST', body: { document: b64('<a/>') }, token: other })).status).toBe(403);
  });

  describe('organisation seal of the kept evidence', () => {
    it('exports a validation as XAdES-sealed XML that validates as sealed by our organisation; the export is kept', async () => {
      const v = await validate(Buffer.from(SAMPLE_XML)); // an unsigned document: kept as indeterminate evidence
      expect(v).toMatchObject({ verdict: 'indeterminate', reason: 'NO_SIGNATURE_FOUND' });
      const res = await api(v.evidenceUrl);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      const sealed = Buffer.from(await res.arrayBuffer());
      const text = sealed.toString('utf8');
      expect(text).toContain('<ev:ValidationEvidence xmlns:ev="urn:sandebud:signing:evidence:1"');
      expect(text).toContain(`<ev:ValidationId>${v.id}</ev:ValidationId>`);
      expect(text).toContain(`<ev:Sha256>${sha256(Buffer.from(SAMPLE_XML))}</ev:Sha256>`);
      expect(text).toContain('<ev:Verdict>indeterminate</ev:Verdict>');

      const check = await validate(sealed);
      expect(check.verdict).toBe('valid');
      expect(check.report.signatures[0]).toMatchObject({ format: 'XAdES', level: 'B-B', signer: { organisation: 'Sändebuds kommun (dev)', orgNumber: '2120000000' } });
      // Sealed once: the second export is the same file.
      const again = Buffer.from(await (await api(v.evidenceUrl)).arrayBuffer());
      expect(again.equals(sealed)).toBe(true);
      // A changed verdict in the export breaks the seal.
      const forged = await validate(Buffer.from(text.replace('<ev:Verdict>indeterminate</ev:Verdict>', '<ev:Verdict>valid</ev:Verdict>')));
      expect(forged.verdict).toBe('invalid');
    });

    it('a validation owned by another principal is a 404, for the evidence too', async () => {
      const v = await validate(Buffer.from(SAMPLE_XML));
      await t.db.pool.query("UPDATE signature_validations SET owner = 'system:someone-else' WHERE id = $1", [v.id]);
      expect((await api(`/v1/signing/validations/${v.id}`)).status).toBe(404);
      expect((await api(`/v1/signing/validations/${v.id}/evidence`)).status).toBe(404);
    });
  });
});
