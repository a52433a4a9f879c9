// Browser tests for issue 4 ("Must show"): headless Debian Chromium driven by playwright-core logs in through the
// dev identity provider's real pages. The LoA3 admin reaches /me; the LoA2-only persona sees the refusal.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startAuthApp, type AuthTestApp } from '../support/auth-app.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED browser tests: ${CHROMIUM} not found (apt-get install -y chromium)`);
const maybe = hasChromium ? describe : describe.skip;

maybe('login in a real browser (Chromium)', () => {
  let app: AuthTestApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startAuthApp({ label: 'authbrowser' });
    await app.provision('lena', ['caseworker']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('logs the LoA3 admin in through the dev provider\'s pages and reaches the authenticated page, then signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/me`);
    // Not signed in: /me → /login → the OP's login form.
    await page.waitForSelector('#login-form');
    expect(page.url().startsWith(`${app.idp.issuer}/interaction/`)).toBe(true);
    await page.fill('#username', 'admin');
    await page.fill('#password', app.idp.users.find((u) => u.username === 'admin')?.password ?? '');
    await Promise.all([page.waitForURL(`${app.url}/me`), page.click('#login-submit')]);
    expect(await page.textContent('#me-name')).toBe('Astrid Admin');
    expect(await page.textContent('#me-roles')).toBe('admin');
    expect(await page.textContent('#me-acr')).toContain('http://id.elegnamnden.se/loa/1.0/loa3');
    const cookies = await context.cookies(app.url);
    const sid = cookies.find((c) => c.name === 'sb_sid');
    expect(sid).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // RP-initiated logout: our session ends, the OP asks for confirmation, then returns to /logged-out.
    await Promise.all([page.waitForURL(/\/session\/end/), page.click('#logout')]);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${app.url}/logged-out`)), page.click('#op-logout-yes')]);
    expect(await page.textContent('h1')).toContain('utloggad');
    const { rows } = await app.db.pool.query("SELECT 1 FROM sessions WHERE sub = 'admin'");
    expect(rows).toHaveLength(0);
    await context.close();
  });

  it('shows the LoA2-only user a refusal page that says login needs assurance level 3', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/login`);
    await page.waitForSelector('#login-form');
    await page.fill('#username', 'lena');
    await page.fill('#password', app.idp.users.find((u) => u.username === 'lena')?.password ?? '');
    await Promise.all([page.waitForURL(/\/auth\/callback/), page.click('#login-submit')]);
    const text = await page.textContent('#refusal');
    expect(text).toContain('Inloggningen kräver e-legitimation på tillitsnivå 3 eller högre.');
    expect(text).toContain('assurance level 3');
    expect((await context.cookies(app.url)).find((c) => c.name === 'sb_sid')).toBeUndefined();
    const { rows } = await app.db.pool.query('SELECT 1 FROM sessions');
    expect(rows).toHaveLength(0);
    await context.close();
  });
});
