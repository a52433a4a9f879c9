// Certificate expiry for /readyz (issue 3 §5; dept44 CertificateHealthScheduler): not ready within N days of expiry.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface CertStatus {
  name: string;
  file: string;
  ok: boolean;
  notAfter?: string;
  daysLeft?: number;
  detail: string;
}

/** Read the first certificate of a PEM file and judge its remaining validity against `warnDays`. */
export function checkCertificateFile(name: string, file: string, warnDays: number, now: Date = new Date()): CertStatus {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    return { name, file, ok: false, detail: 'certificate file cannot be read' };
  }
  try {
    const cert = new X509Certificate(pem);
    const notAfter = new Date(cert.validTo);
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
    const ok = daysLeft >= warnDays;
    return { name, file, ok, notAfter: notAfter.toISOString(), daysLeft, detail: ok ? `valid for ${daysLeft} more days` : daysLeft < 0 ? 'expired' : `expires in ${daysLeft} days (threshold ${warnDays})` };
  } catch {
    return { name, file, ok: false, detail: 'not a PEM certificate' };
  }
}
