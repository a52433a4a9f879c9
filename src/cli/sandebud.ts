// The `sandebud` CLI dispatcher (issue 3 §8). Subcommands are small modules; each returns an exit code.
import { ConfigError, configTable, loadConfig, resolvePath } from '../config/index.js';
import { isAppError } from '../domain/errors.js';
import { openDatabase } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { main as certsMain } from '../../scripts/dev-pki.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The project root, computed here rather than imported from main.ts: importing the composition root loads the
// whole gateway (and oidc-provider) and made every CLI call take seconds. Commands that need it import it lazily.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
import { sdkCommand } from '../use-cases/sdk/sdk.cli.js';
import { digitalPostCommand } from './digital-post.command.js';

export interface Io { stdout: (s: string) => void; stderr: (s: string) => void }
const stdio: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

type Command = { summary: string; run: (argv: string[], io: Io) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  certs: {
    summary: 'certs [--force] [--dir certs-dev]   generate the development PKI (never for production)',
    run: async (argv) => { await certsMain(argv); return 0; },
  },
  migrate: {
    summary: 'migrate                              apply database migrations (DATABASE_URL, or the embedded database)',
    run: async (_argv, io) => {
      const config = loadConfig(process.env, ROOT);
      const db = await openDatabase({ url: config.DATABASE_URL, embeddedDir: resolvePath(config, config.EMBEDDED_DB_DIR), poolMax: 2 });
      try {
        const r = await migrate(db.url);
        io.stdout(r.applied.length > 0 ? `applied: ${r.applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.close();
      }
      return 0;
    },
  },
  config: {
    summary: 'config                               print every configuration key with its default and meaning',
    run: async (_argv, io) => {
      for (const k of configTable()) io.stdout(`${k.key}${k.secret ? ' (secret, or ' + k.key + '_FILE)' : ''}\n    default: ${k.default}\n    ${k.doc}\n`);
      return 0;
    },
  },
  'digital-post': digitalPostCommand,
  sdk: {
    summary: 'sdk validate <file> | sdk addresses list|add|grant|revoke|missing   SDK tools (`sandebud sdk --help`)',
    run: async (argv, io) => {
      // `sdk validate` must work whatever the configuration; the address commands only need the OP and audience.
      let config: ReturnType<typeof loadConfig> | undefined;
      try { config = loadConfig(process.env, ROOT); } catch { config = undefined; }
      return sdkCommand(argv, io, {
        validate: async (a, o) => (await import('../main.js')).sdkValidateCli(a, o, process.env),
        issuer: config?.OIDC_ISSUER ?? 'http://localhost:7109', audience: config?.API_AUDIENCE ?? 'urn:sandebud:api',
        ...(process.env.SANDEBUD_CLIENT_ID ? { clientId: process.env.SANDEBUD_CLIENT_ID } : {}),
        ...(process.env.SANDEBUD_CLIENT_SECRET ? { clientSecret: process.env.SANDEBUD_CLIENT_SECRET } : {}),
      });
    },
  },
  // Signing (issue 8): offline signature validation; works with no gateway running.
  signature: {
    summary: 'signature validate <file> [--trust <ca.pem>]… [--content <file>]   validate signatures offline, print one JSON report',
    run: async (argv, io) => (await import('../main.js')).signatureValidateCli(argv, io, process.env),
  },
};

export function registerCommand(name: string, cmd: Command): void {
  COMMANDS[name] = cmd;
}

function usage(): string {
  return ['Usage: sandebud <command> [options]', '', 'Commands:', ...Object.values(COMMANDS).map((c) => `  ${c.summary}`), '', 'Run `sandebud <command> --help` for details where available.', ''].join('\n');
}

export async function run(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`sandebud: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof ConfigError) io.stderr(`${err.message}\n`);
    else if (isAppError(err)) io.stderr(`sandebud ${name}: ${err.message}\n`);
    else io.stderr(`sandebud ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return isAppError(err) && err.code === 'CLI_USAGE' ? 2 : 1;
  }
}
