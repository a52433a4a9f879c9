// `sandebud digital-post` against the real gateway (issue 5, "CLI"): the command runs as a real child process
// (`node bin/sandebud.js …`) with client credentials from the environment and a token from the gateway's
// development identity provider; FaR, the mailbox operators and the print provider are the simulators.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_RECIPIENTS } from '../../adapters/digital-post/simulator/index.js';
import { run } from '../../src/cli/sandebud.js';
import { runDigitalPost } from '../../src/cli/digital-post.command.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { runCli } from '../support/cli.js';

const cli = runCli;

function capture(): { io: { stdout: (s: string) => void; stderr: (s: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); } }, out, err };
}

describe('sandebud digital-post (CLI) against a running gateway', () => {
  let t: TestGateway;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    t = await startTestGateway({ FAR_CACHE_TTL_MS: '0' });
    env = { SANDEBUD_CLIENT_ID: 'case-system', SANDEBUD_CLIENT_SECRET: 'dev-case-secret' };
    dir = mkdtempSync(path.join(os.tmpdir(), 'sandebud-cli-dp-'));
  }, 90000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.stop();
  });

  const common = () => ['--url', t.gw.url, '--issuer', t.gw.simulators.identityProvider!];

  it('reachability --json prints one JSON array with recipient, reachable, reason and operator; send --wait delivers and prints the outcome', async () => {
    const file = path.join(dir, 'beslut.html');
    writeFileSync(file, '<p>Hej!</p><p>Här kommer ditt beslut.</p>');
    const farBefore = t.gw.world!.far.calls.length;
    const [reach, sent] = await Promise.all([
      cli(['digital-post', 'reachability', TEST_RECIPIENTS.REACHABLE_A, TEST_RECIPIENTS.NOT_REGISTERED, TEST_RECIPIENTS.PENDING, TEST_RECIPIENTS.REACHABLE_B, '--json', ...common()], env),
      cli(['digital-post', 'send', '--to', TEST_RECIPIENTS.REACHABLE_A, '--subject', 'Beslut om bistånd', '--file', file, '--unit', 'Socialtjänsten', '--wait', '--timeout', '60', ...common()], env),
    ]);

    expect({ code: reach.code, stderr: reach.stderr.replace(/^oidc-provider WARNING.*\n/m, '') }).toEqual({ code: 0, stderr: '' });
    // Exactly one line, one JSON array, exactly the four documented keys.
    expect(reach.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(reach.stdout)).toEqual([
      { recipient: TEST_RECIPIENTS.REACHABLE_A, reachable: true, reason: 'REACHABLE', operator: 'Brevlådeoperatör A (sim)' },
      { recipient: TEST_RECIPIENTS.NOT_REGISTERED, reachable: false, reason: 'NOT_REGISTERED', operator: null },
      // Pending at operator B: FaR names the operator even though the mailbox cannot take post yet.
      { recipient: TEST_RECIPIENTS.PENDING, reachable: false, reason: 'PENDING', operator: 'Brevlådeoperatör B (sim)' },
      { recipient: TEST_RECIPIENTS.REACHABLE_B, reachable: true, reason: 'REACHABLE', operator: 'Brevlådeoperatör B (sim)' },
    ]);

    expect(sent.code).toBe(0);
    const id = /^letter ([0-9a-f-]{36}) accepted \(RECEIVED\)$/m.exec(sent.stdout)?.[1];
    expect(id).toBeDefined();
    expect(sent.stdout).toContain(`status: ${t.gw.url}/v1/digital-post/letters/${id}`);
    expect(sent.stdout).toMatch(/^idempotency key: [0-9a-f-]{36}$/m);
    expect(sent.stdout).toMatch(/^final: DELIVERED via digital, reason DELIVERED, operator Brevlådeoperatör A \(sim\)$/m);
    // The operator simulator verified both signatures and holds exactly this one letter, as HTML.
    const got = t.gw.world!.mailboxA.deliveries.filter((d) => JSON.stringify(d).includes(id!));
    expect(got).toHaveLength(1);
    // The reachability check plus the letter's own lookup: at most one FaR call each.
    expect(t.gw.world!.far.calls.length - farBefore).toBeLessThanOrEqual(2);
  }, 60000);

  it('prints the problem\'s title and field errors and exits 1 when the gateway refuses the input', async () => {
    const { io, out, err } = capture();
    const code = await runDigitalPost(['reachability', '195303231856', ...common()], io, env);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    const text = err.join('');
    expect(text).toContain('The gateway answered 400');
    expect(text).toContain('/body/recipients/0');
  });

  it('exits 1 naming the identity provider when the client credentials are wrong', async () => {
    const { io, err } = capture();
    const code = await runDigitalPost(['reachability', TEST_RECIPIENTS.REACHABLE_A, ...common()], io, { SANDEBUD_CLIENT_ID: 'case-system', SANDEBUD_CLIENT_SECRET: 'wrong' });
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/identity provider refused client "case-system" \(401/);
  });

  it.each([
    ['no recipient', ['digital-post', 'reachability']],
    ['an unknown option', ['digital-post', 'reachability', '195303231855', '--bogus']],
    ['send without --file', ['digital-post', 'send', '--to', '195303231855', '--subject', 'x']],
    ['half a postal address', ['digital-post', 'send', '--to', '195303231855', '--subject', 'x', '--file', 'README.md', '--street', 'Storgatan 1']],
    ['an unknown subcommand', ['digital-post', 'post']],
  ])('exits 2 on a usage error: %s', async (_what, argv) => {
    const { io, err } = capture();
    expect(await run(argv, io)).toBe(2);
    expect(err.join('')).toMatch(/digital-post/);
  });

  it('refuses the development client for a gateway that is not on localhost', async () => {
    const { io, err } = capture();
    expect(await runDigitalPost(['reachability', TEST_RECIPIENTS.REACHABLE_A, '--url', 'https://gateway.example.org'], io, {}).catch((e: unknown) => e)).toMatchObject({ code: 'CLI_USAGE' });
    expect(err).toEqual([]);
  });
});
