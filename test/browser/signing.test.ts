// The signing round trip in a real browser (issue 8 "Simulator … including in a browser test"; signing.md §2, §4):
// headless Debian Chromium logs in as a case worker through the dev identity provider at LoA3, asks (with the
// session and CSRF token) for a PDF to be signed by themselves, opens the sign URL and follows the auto-posting
// forms: our page (nonce'd script under its own CSP) → the HTTPS signing-service simulator → the dev identity
// provider's login page, where the signer logs in again at LoA3 → the simulator → our response endpoint.
// Then the result is validated through the API: valid, signed by that person. The LoA2-only persona is refused.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makePdf } from '../fixtures/signing/kit.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED browser signing test: ${CHROMIUM} not found (apt-get install -y chromium)`);
const maybe = hasChromium ? describe : describe.skip;

interface Json { status: number; json: Record<string, unknown> }

maybe('signing in a real browser (Chromium)', () => {
  let t: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestGateway();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 90000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** fetch() inside the page: same origin, session cookie, CSRF header. */
  const call = (page: Page, path: string, init: { method?: string; body?: unknown; csrf?: string; key?: string } = {}): Promise<Json> =>
    page.evaluate(async ({ path: p, init: i }) => {
      const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
      if (i.csrf) headers['x-csrf-token'] = i.csrf;
      if (i.key) headers['idempotency-key'] = i.key;
      const res = await fetch(p, { method: i.method ?? 'GET', headers, body: i.body === undefined ? undefined : JSON.stringify(i.body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    }, { path, init });

  it('a logged-in case worker signs a PDF through the signing service and it validates as signed by them', async () => {
    const user = t.gw.world!.idp.users.find((u) => u.username === 'caseworker1')!;
    // The simulator's TLS certificate is from the dev CA, which this browser does not know.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });

    await page.goto(`${t.gw.url}/me`);
    await page.waitForSelector('#login-form');
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await Promise.all([page.waitForURL(`${t.gw.url}/me`), page.click('#login-submit')]);
    const me = await call(page, '/me');
    const csrf = me.json.csrfToken as string;
    expect(typeof csrf).toBe('string');

    const pdf = await makePdf('Beslut om bistånd');
    const created = await call(page, '/v1/signing/requests', {
      method: 'POST', csrf, key: 'browser-sign-1',
      body: {
        document: { content: pdf.toString('base64'), contentType: 'application/pdf' }, signer: { personalIdentityNumber: user.personalIdentityNumber },
        signMessage: 'Beslut om bistånd (browser test)', caseReference: 'SN 2026/7',
      },
    });
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ status: 'PENDING', signer: { personalIdentityNumber: `${user.personalIdentityNumber!.slice(0, 8)}****` } });
    const id = created.json.id as string;

    const before = t.gw.world!.signing.received.length;
    await page.goto(created.json.signUrl as string);
    // The signing service sends the signer to the identity provider's login page (a fresh login, LoA3 essential).
    await page.waitForSelector('#login-form');
    expect(page.url().startsWith(`${t.gw.world!.idp.issuer}/interaction/`)).toBe(true);
    expect(await page.textContent('body')).toContain('signing-service');
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await Promise.all([page.waitForURL(`${t.gw.url}/v1/signing/responses`), page.click('#login-submit')]);
    await page.waitForSelector('#signing-result');
    expect(await page.getAttribute('#signing-result', 'data-status')).toBe('SIGNED');
    expect(await page.textContent('#signing-result')).toBe('Dokumentet är underskrivet.');
    expect(cspViolations).toEqual([]);
    // The signing service saw exactly one SignRequest, naming this person, with the sign message we asked for.
    const asked = t.gw.world!.signing.received.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.requestedSigner).toBe(user.personalIdentityNumber);
    expect(asked[0]!.signMessage).toContain('Beslut om bistånd (browser test)');
    expect(asked[0]!.signMessage).toContain('SN 2026/7');

    // The result page allows no scripts or connections (its CSP): read the status from a console page instead.
    await page.goto(`${t.gw.url}/me`);
    const done = await call(page, `/v1/signing/requests/${id}`);
    expect(done.json).toMatchObject({ status: 'SIGNED', result: { signer: { givenName: user.givenName, surname: user.familyName }, report: { verdict: 'valid' } } });
    const signed = (done.json.result as { document: { content: string } }).document.content;

    const v = await call(page, '/v1/signing/validations', { method: 'POST', csrf, body: { document: signed } });
    expect(v.status).toBe(201);
    const report = v.json.report as { verdict: string; signatures: { status: string; format: string; signer: Record<string, string> }[] };
    expect(report.verdict).toBe('valid');
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'PAdES', signer: { personnummer: user.personalIdentityNumber, givenName: user.givenName, surname: user.familyName } });
    await context.close();
  }, 60000);

  it('the LoA2-only persona (lena) is refused at the signing service: FAILED with SIGNING_UNSUPPORTED_LOA', async () => {
    const caseworker = t.gw.world!.idp.users.find((u) => u.username === 'caseworker1')!;
    const lena = t.gw.world!.idp.users.find((u) => u.username === 'lena')!;
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${t.gw.url}/me`);
    await page.waitForSelector('#login-form');
    await page.fill('#username', caseworker.username);
    await page.fill('#password', caseworker.password);
    await Promise.all([page.waitForURL(`${t.gw.url}/me`), page.click('#login-submit')]);
    const csrf = (await call(page, '/me')).json.csrfToken as string;
    const created = await call(page, '/v1/signing/requests', {
      method: 'POST', csrf, key: 'browser-sign-lena',
      body: { document: { content: (await makePdf('Avtal')).toString('base64'), contentType: 'application/pdf' }, signer: { personalIdentityNumber: lena.personalIdentityNumber }, signMessage: 'Avtal (browser test)' },
    });
    expect(created.status).toBe(202);
    const id = created.json.id as string;

    await page.goto(created.json.signUrl as string);
    await page.waitForSelector('#login-form');
    await page.fill('#username', lena.username);
    await page.fill('#password', lena.password);
    await Promise.all([page.waitForURL(`${t.gw.url}/v1/signing/responses`), page.click('#login-submit')]);
    await page.waitForSelector('#signing-result');
    expect(await page.getAttribute('#signing-result', 'data-status')).toBe('FAILED');
    expect(await page.textContent('#signing-code')).toBe('SIGNING_UNSUPPORTED_LOA');

    await page.goto(`${t.gw.url}/me`);
    const done = await call(page, `/v1/signing/requests/${id}`);
    expect(done.json).toMatchObject({ status: 'FAILED', result: null, error: { code: 'SIGNING_UNSUPPORTED_LOA' } });
    await context.close();
  }, 60000);
});
