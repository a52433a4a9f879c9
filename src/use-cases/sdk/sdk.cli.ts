// sdk.md §5/§16 (`sandebud sdk validate`) and issue 6 "For administrators: function addresses":
// `sandebud sdk validate <file>` and `sandebud sdk addresses list|add|grant|revoke|missing` (missing: issue 7, which
// of our function addresses the national SDK address book lacks, sdk.md §3). The address commands
// administer the RUNNING gateway through its admin API (/v1/admin, scope urn:sandebud:admin) with a
// client-credentials token, so every change goes through the same checks and audit trail as the console.
// The validate command is injected by the composition root (it runs the adapters' validation pipeline).

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface SdkCliDeps {
  /** `sdk validate …` (adapters/sdk sdkValidateCommand, with the configured trust anchors). */
  validate(argv: string[], io: CliIo): Promise<number>;
  /** OpenID Provider issuer (token endpoint by discovery) and the API audience (`resource`). */
  issuer: string;
  audience: string;
  /** SANDEBUD_CLIENT_ID / SANDEBUD_CLIENT_SECRET; undefined = the development `admin-cli` client. */
  clientId?: string;
  clientSecret?: string;
  fetch?: typeof fetch;
}

const DEV_CLIENT = { id: 'admin-cli', secret: 'dev-admin-cli-secret' } as const;
const DEFAULT_URL = 'http://localhost:3000';

const HELP = {
  sdk: `Usage: sandebud sdk <command>

Commands:
  validate <file> [options]              judge one SDK payload, XHE envelope or receipt; prints one JSON verdict
  addresses list [--json]                the organisation's function addresses and their grants
  addresses add <address> --name <name>  register a function address
  addresses grant <address> <principal> [--send] [--read]
                                         let person:<sub> or system:<client_id> send from / read it (default: both)
  addresses revoke <address> <principal> [--send] [--read]
                                         take the permission(s) away again (default: both)
  addresses missing [--refresh] [--json] our function addresses the national SDK address book lacks

Run \`sandebud sdk <command> --help\` for details.
`,
  validate: `Usage: sandebud sdk validate <file> [--trust <ca.pem>]... [--at <ISO date-time>] [--key <enc.key> --cert <enc.crt>]

Judges one file with the same validation the message service runs on inbound messages and prints exactly one
JSON object on stdout: {"status":"ACCEPTED"} or {"status":"REJECTED","reasons":[{"code","detail","path","text"}]}.
Accepted inputs: a bare payload (messagePayload), an XHE envelope, a Domibus submitRequest carrying an XHE, or a
receipt (ApplicationResponse). An envelope's signer certificate is trusted only when it chains to a --trust anchor
(default: TRUST_CA_FILE when that file exists). --key/--cert: our encryption key, to look inside an encrypted payload.
Exit code 0 when the file could be judged (whatever the verdict), 2 when it could not be read.
`,
  addresses: `Usage: sandebud sdk addresses list|add|grant|revoke|missing … [--url <gateway>] [--issuer <OpenID Provider>]

Administers the running gateway's function addresses through its admin API with a client-credentials token
(scope urn:sandebud:admin). Client: SANDEBUD_CLIENT_ID and SANDEBUD_CLIENT_SECRET; when unset, the development
client admin-cli (development only). --url defaults to ${DEFAULT_URL}; --issuer to OIDC_ISSUER.
Every change is audited by the gateway (FUNCTION_ADDRESS_ADDED, GRANT_ADDED, GRANT_REVOKED).
`,
  list: `Usage: sandebud sdk addresses list [--json] [--url <gateway>]

Prints every function address of the organisation with its grants (principal: permissions).
`,
  add: `Usage: sandebud sdk addresses add <address> --name <name> [--url <gateway>]

Registers a function address (opaque, at most 256 characters, e.g. sdk:inkorg:0007:2120000000).
`,
  grant: `Usage: sandebud sdk addresses grant <address> <principal> [--send] [--read] [--url <gateway>]

<principal> is person:<sub> (a person at the OpenID Provider) or system:<client_id> (a case system).
Without --send/--read both permissions are granted.
`,
  revoke: `Usage: sandebud sdk addresses revoke <address> <principal> [--send] [--read] [--url <gateway>]

Without --send/--read both permissions are revoked.
`,
  missing: `Usage: sandebud sdk addresses missing [--refresh] [--json] [--url <gateway>]

Prints which of the organisation's function addresses the national SDK address book does not list, or lists under
another organisation, as seen in the gateway's local copy (GET /v1/admin/sdk/address-book). Messages to such an
address are refused (outbound) or answered REJECTED/BV/not-found (inbound) until the address is registered in the
national address book's web interface. --refresh downloads the national book first. --json prints the gateway's
answer as it is. Exit code 0 when the report could be made (whatever it says), 1 when there is no copy at all.
`,
} as const;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

const VALUE_OPTIONS = new Set(['--url', '--issuer', '--name']);

function parse(argv: string[]): Parsed {
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      out.values.set(a, v);
    } else if (a.startsWith('--') || a === '-h') {
      out.flags.add(a === '-h' ? '--help' : a);
    } else {
      out.positional.push(a);
    }
  }
  return out;
}

interface AdminAddress {
  id: string;
  address: string;
  name: string;
}
interface AdminAddressBook {
  source: string;
  copy: { fetchedAt: string | null; lastError: string | null; organisations: number; addresses: number; stale: boolean };
  ownAddresses: null | { missing: string[]; registeredElsewhere: { address: string; organisation: { participantId: string; name: string } }[]; present: string[] };
}
interface AdminGrant {
  functionAddress: string;
  principalId: string;
  permission: 'send' | 'read';
}

class AdminClient {
  private token: string | undefined;
  constructor(private readonly deps: SdkCliDeps, private readonly url: string, private readonly issuer: string, private readonly io: CliIo) {}

  private get fetch(): typeof fetch {
    return this.deps.fetch ?? fetch;
  }

  private async accessToken(): Promise<string> {
    if (this.token !== undefined) return this.token;
    const id = this.deps.clientId ?? DEV_CLIENT.id;
    const secret = this.deps.clientSecret ?? DEV_CLIENT.secret;
    if (this.deps.clientId === undefined) this.io.stderr('note: SANDEBUD_CLIENT_ID is not set; using the development client admin-cli\n');
    const discovery = await this.fetch(`${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    if (!discovery.ok) throw new Error(`the OpenID Provider ${this.issuer} did not answer discovery (${discovery.status})`);
    const { token_endpoint: tokenEndpoint } = (await discovery.json()) as { token_endpoint?: string };
    if (tokenEndpoint === undefined) throw new Error('the OpenID Provider has no token endpoint');
    const res = await this.fetch(tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: this.deps.audience, scope: 'urn:sandebud:admin' }),
    });
    const json = (await res.json()) as { access_token?: string; error?: string };
    if (json.access_token === undefined) throw new Error(`no access token for client ${id}: ${json.error ?? res.status}`);
    this.token = json.access_token;
    return this.token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T | undefined }> {
    const res = await this.fetch(`${this.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.accessToken()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text === '' ? undefined : (JSON.parse(text) as T);
    if (res.status >= 400) {
      const p = (json ?? {}) as { code?: string; detail?: string };
      throw new Error(`${method} ${path}: ${res.status} ${p.code ?? ''} ${p.detail ?? ''}`.trim());
    }
    return { status: res.status, json };
  }

  async addresses(): Promise<AdminAddress[]> {
    return (await this.call<{ items: AdminAddress[] }>('GET', '/v1/admin/function-addresses')).json?.items ?? [];
  }

  async find(address: string): Promise<AdminAddress> {
    const found = (await this.addresses()).find((a) => a.address === address);
    if (found === undefined) throw new Error(`no function address ${address}`);
    return found;
  }
}

function permissionsOf(p: Parsed): ('send' | 'read')[] {
  const out: ('send' | 'read')[] = [];
  if (p.flags.has('--send')) out.push('send');
  if (p.flags.has('--read')) out.push('read');
  return out.length > 0 ? out : ['send', 'read'];
}

async function addresses(argv: string[], io: CliIo, deps: SdkCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout(HELP.addresses);
    return sub === undefined ? 2 : 0;
  }
  if (!(sub === 'list' || sub === 'add' || sub === 'grant' || sub === 'revoke' || sub === 'missing')) throw new UsageError(`unknown addresses command "${sub}"`);
  const p = parse(rest);
  if (p.flags.has('--help')) {
    io.stdout(HELP[sub]);
    return 0;
  }
  const known = new Set(['--json', '--send', '--read', '--refresh']);
  for (const f of p.flags) if (!known.has(f)) throw new UsageError(`unknown option ${f}`);
  const client = new AdminClient(deps, p.values.get('--url') ?? DEFAULT_URL, p.values.get('--issuer') ?? deps.issuer, io);
  switch (sub) {
    case 'list': {
      if (p.positional.length > 0) throw new UsageError('list takes no arguments');
      const list = await client.addresses();
      const grants = (await client.call<{ items: AdminGrant[] }>('GET', '/v1/admin/grants')).json?.items ?? [];
      const view = list.map((a) => {
        const byPrincipal = new Map<string, string[]>();
        for (const g of grants.filter((x) => x.functionAddress === a.address)) byPrincipal.set(g.principalId, [...(byPrincipal.get(g.principalId) ?? []), g.permission]);
        return { address: a.address, name: a.name, id: a.id, grants: [...byPrincipal].map(([principalId, permissions]) => ({ principalId, permissions })) };
      });
      if (p.flags.has('--json')) {
        io.stdout(`${JSON.stringify(view, null, 2)}\n`);
      } else if (view.length === 0) {
        io.stdout('no function addresses\n');
      } else {
        for (const v of view) {
          io.stdout(`${v.address}  (${v.name})\n`);
          for (const g of v.grants) io.stdout(`    ${g.principalId}: ${g.permissions.join(', ')}\n`);
          if (v.grants.length === 0) io.stdout('    (no grants)\n');
        }
      }
      return 0;
    }
    case 'missing': {
      if (p.positional.length > 0) throw new UsageError('missing takes no arguments');
      const book = (p.flags.has('--refresh')
        ? await client.call<AdminAddressBook>('POST', '/v1/admin/sdk/address-book/refresh')
        : await client.call<AdminAddressBook>('GET', '/v1/admin/sdk/address-book')).json;
      if (book === undefined) throw new Error('the gateway sent no address book report');
      if (p.flags.has('--json')) io.stdout(`${JSON.stringify(book, null, 2)}\n`);
      const own = book.ownAddresses;
      if (own === null) {
        if (!p.flags.has('--json')) io.stderr(`no copy of the national SDK address book yet (${book.source}${book.copy.lastError !== null ? `: ${book.copy.lastError}` : ''})\n`);
        return 1;
      }
      if (p.flags.has('--json')) return 0;
      io.stdout(`national SDK address book: ${book.source}, copy of ${book.copy.fetchedAt ?? '?'}${book.copy.stale ? ' (stale)' : ''}${book.copy.lastError !== null ? `, last refresh failed: ${book.copy.lastError}` : ''}\n`);
      io.stdout(own.missing.length === 0 ? 'missing: none\n' : `missing (${own.missing.length}):\n${own.missing.map((a) => `    ${a}\n`).join('')}`);
      if (own.registeredElsewhere.length > 0) {
        io.stdout(`listed under another organisation (${own.registeredElsewhere.length}):\n${own.registeredElsewhere.map((r) => `    ${r.address}  (${r.organisation.participantId}, ${r.organisation.name})\n`).join('')}`);
      }
      io.stdout(`present: ${own.present.length}\n`);
      return 0;
    }
    case 'add': {
      const [address, extra] = p.positional;
      const name = p.values.get('--name');
      if (address === undefined || extra !== undefined || name === undefined) throw new UsageError('add needs <address> and --name <name>');
      await client.call('POST', '/v1/admin/function-addresses', { address, name });
      io.stdout(`added ${address}\n`);
      return 0;
    }
    case 'grant':
    case 'revoke': {
      const [address, principal, extra] = p.positional;
      if (address === undefined || principal === undefined || extra !== undefined) throw new UsageError(`${sub} needs <address> and <principal>`);
      if (!/^(person|system):\S{1,200}$/.test(principal)) throw new UsageError('<principal> must be person:<sub> or system:<client_id>');
      const fa = await client.find(address);
      const permissions = permissionsOf(p);
      if (sub === 'grant') {
        await client.call('POST', `/v1/admin/function-addresses/${fa.id}/grants`, { principalId: principal, permissions });
        io.stdout(`granted ${permissions.join(', ')} on ${address} to ${principal}\n`);
      } else {
        const q = permissions.length === 1 ? `?permission=${permissions[0]}` : '';
        await client.call('DELETE', `/v1/admin/function-addresses/${fa.id}/grants/${encodeURIComponent(principal)}${q}`);
        io.stdout(`revoked ${permissions.join(', ')} on ${address} from ${principal}\n`);
      }
      return 0;
    }
  }
}

/** `sandebud sdk …`. Returns the exit code: 0 done, 1 failed (gateway or network), 2 usage error. */
export async function sdkCommand(argv: string[], io: CliIo, deps: SdkCliDeps): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      io.stdout(HELP.sdk);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === 'validate') {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout(HELP.validate);
        return 0;
      }
      return await deps.validate(rest, io);
    }
    if (cmd === 'addresses') return await addresses(rest, io, deps);
    throw new UsageError(`unknown sdk command "${cmd}"`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sandebud sdk: ${err.message}\n\n${HELP.sdk}`);
      return 2;
    }
    io.stderr(`sandebud sdk: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
