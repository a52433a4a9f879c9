// The print-and-post adapter (../shared/specs/digital-post.md §8; style.md conventions 1 and 5): one factory
// with plain options (URL, PEM contents, timeouts) that returns the PrintProvider port. Submitting is
// idempotent by letter id: the provider de-duplicates on the Idempotency-Key.
import type { Agent } from 'undici';
import type { Logger } from '../../src/lib/logger.js';
import type { LetterForPrint, PostalAddress, PrintConfirmation, PrintJobStatus, PrintProvider } from '../../src/ports/digital-post.port.js';
import { createMtlsAgent, type TlsClientMaterial } from '../shared/mtls-http.js';
import { getPrintJob, postPrintJob } from './print.client.js';
import { parseRejection, parseStatusAnswer, parseSubmitAnswer, toPrintJobRequest } from './print.mapper.js';
import { printHttpError, printRejected } from './errors.js';

export interface PrintProviderOptions {
  /** Base URL of the provider API (e.g. https://print.example/print/v1). */
  url: string;
  /** Our TLS client certificate and key, and the CAs trusted for the provider's server (PEM contents). */
  tls: TlsClientMaterial;
  /** Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Default 30,000 ms. */
  readTimeoutMs?: number;
  logger?: Logger;
}

export interface HttpPrintProvider extends PrintProvider {
  close(): Promise<void>;
}

export function createPrintProvider(opts: PrintProviderOptions): HttpPrintProvider {
  const agent: Agent = createMtlsAgent({ tls: opts.tls, connectTimeoutMs: opts.connectTimeoutMs, readTimeoutMs: opts.readTimeoutMs ?? 30_000 });
  return {
    async submit(letter: LetterForPrint, address: PostalAddress): Promise<PrintConfirmation> {
      const body = JSON.stringify(toPrintJobRequest(letter, address));
      const answer = await postPrintJob(agent, opts.url, letter.letterId, body);
      if (answer.status === 200 || answer.status === 201 || answer.status === 202) {
        const confirmation = parseSubmitAnswer(answer.body, letter.letterId, answer.status === 200);
        if (!confirmation) throw printHttpError(answer.status);
        opts.logger?.info({ event: 'PRINT_ACCEPTED', letterId: letter.letterId, jobId: confirmation.jobId, duplicate: confirmation.duplicate }, 'print job accepted');
        return confirmation;
      }
      if (answer.status === 409 || answer.status === 422 || answer.status === 400) {
        const reason = parseRejection(answer.body) ?? 'REJECTED';
        opts.logger?.warn({ event: 'PRINT_REJECTED', letterId: letter.letterId, reason, httpStatus: answer.status }, 'print job rejected');
        throw printRejected(reason, answer.status);
      }
      throw printHttpError(answer.status);
    },
    async status(jobId: string): Promise<PrintJobStatus> {
      const answer = await getPrintJob(agent, opts.url, jobId);
      const s = answer.status === 200 ? parseStatusAnswer(answer.body) : undefined;
      if (!s) throw printHttpError(answer.status);
      return s;
    },
    close: () => agent.close(),
  };
}
