// sdk.md §3 "SDK Adressbok": download the national address book through its public read API (HTTPS, no
// authorisation), page by page, validating every page. Transport only; the shape is address-book.mapper.ts.
import { Agent, request } from 'undici';
import { z } from 'zod';
import { AppError } from '../../../src/domain/errors.js';
import { classifyTransportError } from '../../shared/mtls-http.js';
import { addressResource, organizationResource, page, type AddressResource, type OrganizationResource } from './address-book.mapper.js';

export interface AddressBookClientOptions {
  /** Base URL of the read API (e.g. `https://sdk.example/addressbook`). */
  baseUrl: string;
  /** CAs for the server certificate; optional client certificate (PEM contents). Omit for public CAs. */
  tls?: { caPem?: string | readonly string[]; certPem?: string; keyPem?: string };
  pageSize?: number;
  /** Safety cap on pages per collection. Default 1,000. */
  maxPages?: number;
  timeoutMs?: number;
  maxPageBytes?: number;
}

export interface AddressBookDownload {
  organisations: OrganizationResource[];
  addresses: AddressResource[];
}

export interface AddressBookClient {
  downloadAll(): Promise<AddressBookDownload>;
  close(): Promise<void>;
}

export function createAddressBookClient(opts: AddressBookClientOptions): AddressBookClient {
  const base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  const size = opts.pageSize ?? 200;
  const maxPages = opts.maxPages ?? 1000;
  const timeout = opts.timeoutMs ?? 15_000;
  const ca = opts.tls?.caPem === undefined ? undefined : typeof opts.tls.caPem === 'string' ? [opts.tls.caPem] : [...opts.tls.caPem];
  const agent = new Agent({
    connect: {
      ...(ca ? { ca } : {}),
      ...(opts.tls?.certPem !== undefined && opts.tls.keyPem !== undefined ? { cert: opts.tls.certPem, key: opts.tls.keyPem } : {}),
      rejectUnauthorized: true,
      timeout: Math.min(timeout, 5_000),
    },
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });

  async function getJson(url: URL): Promise<unknown> {
    let status: number;
    let body: Buffer;
    try {
      const res = await request(url, { dispatcher: agent, method: 'GET', headers: { accept: 'application/vnd.api+json, application/json' } });
      status = res.statusCode;
      const max = opts.maxPageBytes ?? 8 * 1024 * 1024;
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of res.body) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        n += b.length;
        if (n > max) {
          res.body.destroy();
          throw new AppError('ADDRESS_BOOK_PAGE_TOO_LARGE', 'An address book page is too large.', { status: 502 });
        }
        chunks.push(b);
      }
      body = Buffer.concat(chunks);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('ADDRESS_BOOK_UNAVAILABLE', 'The national address book could not be reached.', { status: 502, retryable: true, cause: classifyTransportError(e) });
    }
    if (status !== 200) throw new AppError('ADDRESS_BOOK_UNAVAILABLE', `The national address book answered HTTP ${status}.`, { status: 502, retryable: status >= 500 || status === 429 });
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new AppError('ADDRESS_BOOK_INVALID', 'The national address book answered with invalid JSON.', { status: 502 });
    }
  }

  async function collection<T extends z.ZodTypeAny>(path: string, item: T): Promise<Array<z.infer<T>>> {
    const schema = page(item);
    const out: Array<z.infer<T>> = [];
    let url: URL | undefined = new URL(`${path}?page[number]=1&page[size]=${size}`, base);
    for (let n = 0; url !== undefined; n++) {
      if (n >= maxPages) throw new AppError('ADDRESS_BOOK_INVALID', 'The national address book has more pages than allowed.', { status: 502 });
      const parsed = schema.safeParse(await getJson(url));
      if (!parsed.success) {
        const where = parsed.error.issues[0]?.path.join('.') ?? '';
        throw new AppError('ADDRESS_BOOK_INVALID', `An address book page does not have the expected shape (${where}).`, { status: 502 });
      }
      out.push(...(parsed.data.data as Array<z.infer<T>>));
      const next = parsed.data.links?.next;
      if (next === undefined || next === null || next === '') url = undefined;
      else {
        const nextUrl: URL = new URL(next, url);
        // Follow links only within the configured service.
        if (nextUrl.origin !== base.origin) throw new AppError('ADDRESS_BOOK_INVALID', 'The address book pointed to another origin.', { status: 502 });
        url = nextUrl;
      }
    }
    return out;
  }

  return {
    async downloadAll() {
      const organisations = await collection('api/v1/organizations', organizationResource);
      const addresses = await collection('api/v1/addresses', addressResource);
      return { organisations, addresses };
    },
    async close() {
      await agent.close();
    },
  };
}
