// HTTPS server with mutual TLS for simulators of external parties (style.md convention 6: simulators
// speak the real protocol over a real socket). Generic: request body collection with a size limit, the
// peer certificate, a close() that ends keep-alive connections.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** PEM contents (never file paths) for a TLS server. */
export interface TlsServerMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  /** CAs whose client certificates are accepted. Nothing else is trusted. */
  ca: string | Buffer | ReadonlyArray<string | Buffer>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Subject of the verified client certificate (one line per RDN), if any. */
  clientSubject?: string;
}

export interface StartedHttpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type HttpsHandler = (req: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

export interface HttpsServerOptions {
  /** 0 for any free port. */
  port?: number;
  host?: string;
  tls: TlsServerMaterial;
  /** Require and verify a client certificate (mutual TLS). Default true. */
  requireClientCert?: boolean;
  /** Largest accepted request body. Default 8 MiB. */
  maxBodyBytes?: number;
}

export async function startHttpsServer(opts: HttpsServerOptions, handler: HttpsHandler): Promise<StartedHttpsServer> {
  const mutual = opts.requireClientCert ?? true;
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const server = https.createServer(
    {
      key: opts.tls.key,
      cert: opts.tls.cert,
      ca: Array.isArray(opts.tls.ca) ? [...(opts.tls.ca as ReadonlyArray<string | Buffer>)] : (opts.tls.ca as string | Buffer),
      requestCert: mutual,
      rejectUnauthorized: mutual, // an unknown client CA fails the handshake, before any HTTP
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => {
        if (tooLarge) {
          res.writeHead(413, { 'content-type': 'text/plain' }).end('request too large');
          return;
        }
        const sock = req.socket as TLSSocket;
        const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
        const subject = peer && peer.subject ? Object.entries(peer.subject).map(([k, v]) => `${k}=${String(v)}`).join('\n') : undefined;
        const received: ReceivedRequest = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks),
          clientSubject: subject,
        };
        Promise.resolve(handler(received, res)).catch(() => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('simulator error');
        });
      });
    },
  );
  // The simulators' own connection problems (a refused client certificate) are expected in tests.
  server.on('tlsClientError', () => undefined);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Development TLS certificates carry both DNS:localhost and IP:127.0.0.1.
  const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `https://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Write a response and end it. */
export function reply(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
