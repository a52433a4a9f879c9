// Print-and-post provider simulator (../shared/specs/digital-post.md §8.2 "Our simulator"; style.md convention
// 6): HTTPS with mutual TLS, POST /print-jobs (PDF + address as JSON, Idempotency-Key = letter id) → 202
// {jobId, status: ACCEPTED} (200 with the same job for a repeat), or 422 {reason} for a non-PDF, a PDF without
// %%EOF, a missing postal code or town, or a postal code that is not NNN NN; GET /print-jobs/{id} → ACCEPTED,
// then PRINTED and POSTED with timestamps as time passes. Does not import the adapter's mapper or client.
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { startHttpsServer, reply, type ReceivedRequest, type TlsServerMaterial } from '../../shared/https-server.js';

export interface PrintSimulatorOptions {
  port?: number;
  host?: string;
  tls: TlsServerMaterial;
  /** A job reads PRINTED this long after acceptance. Default 50 ms. */
  printedAfterMs?: number;
  /** … and POSTED this long after acceptance. Default 100 ms. */
  postedAfterMs?: number;
  now?: () => Date;
}

export interface PrintSimulatorJob {
  jobId: string;
  letterId: string;
  acceptedAt: Date;
  pdfSha256: string;
  pages?: number;
  envelope: string;
  /** Postal code and town only: enough for assertions, no name or street kept. */
  destination: { postalCode: string; town: string };
}

export interface PrintSimulatorCall {
  at: Date;
  method: string;
  path: string;
  clientSubject?: string;
  status: number;
  reason?: string;
  letterId?: string;
}

export interface PrintSimulator {
  /** Base URL of the API (append nothing; the client adds /print-jobs). */
  url: string;
  calls: PrintSimulatorCall[];
  jobs: PrintSimulatorJob[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => reply(res, status, 'application/json', JSON.stringify(body));

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export async function startPrintSimulator(opts: PrintSimulatorOptions): Promise<PrintSimulator> {
  const calls: PrintSimulatorCall[] = [];
  const jobs: PrintSimulatorJob[] = [];
  const byLetter = new Map<string, { job: PrintSimulatorJob; requestHash: string }>();
  const byId = new Map<string, PrintSimulatorJob>();
  const now = opts.now ?? (() => new Date());
  const printedAfter = opts.printedAfterMs ?? 50;
  const postedAfter = opts.postedAfterMs ?? 100;

  const handle = (req: ReceivedRequest, res: ServerResponse): void => {
    const call: PrintSimulatorCall = { at: now(), method: req.method, path: req.path, clientSubject: req.clientSubject, status: 0 };
    calls.push(call);
    const send = (status: number, body: unknown, reason?: string) => {
      call.status = status;
      if (reason) call.reason = reason;
      json(res, status, body);
    };
    const path = req.path.split('?')[0]!;
    const get = /\/print-jobs\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && get) {
      const job = byId.get(decodeURIComponent(get[1]!));
      if (!job) return send(404, { reason: 'NOT_FOUND' }, 'NOT_FOUND');
      const age = now().getTime() - job.acceptedAt.getTime();
      const at = (ms: number) => new Date(job.acceptedAt.getTime() + ms).toISOString();
      return send(200, {
        jobId: job.jobId,
        status: age >= postedAfter ? 'POSTED' : age >= printedAfter ? 'PRINTED' : 'ACCEPTED',
        ...(age >= printedAfter ? { printedAt: at(printedAfter) } : {}),
        ...(age >= postedAfter ? { postedAt: at(postedAfter) } : {}),
      });
    }
    if (req.method !== 'POST' || !/\/print-jobs$/.test(path)) return send(404, { reason: 'NOT_FOUND' }, 'NOT_FOUND');

    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(req.body.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return send(400, { reason: 'MALFORMED_REQUEST' }, 'MALFORMED_REQUEST');
    }
    const key = req.headers['idempotency-key'];
    const letterId = str(body.letterId);
    call.letterId = letterId;
    if (typeof key !== 'string' || !letterId || key !== letterId) return send(400, { reason: 'IDEMPOTENCY_KEY_REQUIRED' }, 'IDEMPOTENCY_KEY_REQUIRED');
    const requestHash = createHash('sha256').update(req.body).digest('hex');
    const earlier = byLetter.get(letterId);
    if (earlier) {
      if (earlier.requestHash !== requestHash) return send(409, { reason: 'IDEMPOTENCY_KEY_REUSED' }, 'IDEMPOTENCY_KEY_REUSED');
      return send(200, { jobId: earlier.job.jobId, letterId, status: 'ACCEPTED' });
    }

    const doc = (body.document ?? {}) as Record<string, unknown>;
    const pdf = typeof doc.base64 === 'string' ? Buffer.from(doc.base64, 'base64') : Buffer.alloc(0);
    if (doc.contentType !== 'application/pdf' || !pdf.subarray(0, 5).equals(Buffer.from('%PDF-'))) return send(422, { reason: 'NOT_PDF' }, 'NOT_PDF');
    if (!pdf.subarray(Math.max(0, pdf.length - 1024)).toString('latin1').includes('%%EOF')) return send(422, { reason: 'PDF_UNREADABLE' }, 'PDF_UNREADABLE');
    const addr = (body.address ?? {}) as Record<string, unknown>;
    const postalCode = str(addr.postalCode);
    const town = str(addr.town);
    if (!str(addr.name) || !str(addr.street) || !postalCode || !town) return send(422, { reason: 'ADDRESS_INCOMPLETE' }, 'ADDRESS_INCOMPLETE');
    if (str(addr.country) === undefined && !/^\d{3} ?\d{2}$/.test(postalCode)) return send(422, { reason: 'INVALID_POSTAL_CODE' }, 'INVALID_POSTAL_CODE');

    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
    const job: PrintSimulatorJob = {
      jobId: randomUUID(),
      letterId,
      acceptedAt: now(),
      pdfSha256: createHash('sha256').update(pdf).digest('hex'),
      ...(pages > 0 ? { pages } : {}),
      envelope: str(body.envelope) ?? 'PLAIN',
      destination: { postalCode, town },
    };
    jobs.push(job);
    byLetter.set(letterId, { job, requestHash });
    byId.set(job.jobId, job);
    return send(202, { jobId: job.jobId, letterId, status: 'ACCEPTED' });
  };

  const server = await startHttpsServer({ port: opts.port, host: opts.host, tls: opts.tls, requireClientCert: true, maxBodyBytes: 32 * 1024 * 1024 }, handle);
  return { url: `${server.url}/print/v1`, calls, jobs, close: server.close };
}
