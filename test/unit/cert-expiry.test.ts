// /readyz certificate check (issue 3 §5): not ready within N days of expiry, and never for an expired or unreadable file.
import os from 'node:os';
import path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { checkCertificateFile } from '../../src/lib/cert-expiry.js';
import { ensureDevPki } from '../../scripts/dev-pki.js';

describe('certificate expiry check', () => {
  it('is ready for a valid certificate, and not ready inside the warning window or after expiry', async () => {
    const pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
    const ok = checkCertificateFile('org-sign', pki.cert('org-sign'), 14);
    expect(ok.ok).toBe(true);
    expect(ok.daysLeft).toBeGreaterThan(14);
    const inWindow = checkCertificateFile('org-sign', pki.cert('org-sign'), (ok.daysLeft ?? 0) + 1);
    expect(inWindow).toMatchObject({ ok: false });
    expect(inWindow.detail).toMatch(/expires in \d+ days/);
    const expired = checkCertificateFile('expired-sign', pki.cert('expired-sign'), 0);
    expect(expired).toMatchObject({ ok: false, detail: 'expired' });
  });

  it('is not ready when the file is missing or not a certificate', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cert-'));
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(checkCertificateFile('x', path.join(dir, 'missing.pem'), 1)).toMatchObject({ ok: false, detail: 'certificate file cannot be read' });
    expect(checkCertificateFile('x', junk, 1)).toMatchObject({ ok: false, detail: 'not a PEM certificate' });
  });
});
