// The other parties of bench:digital-post — FaR, two mailbox operators and the print provider — in a process
// of their own, as they are in production (other organisations' machines). They still share this machine's
// cores, so their CPU counts against the throughput; the parent reports each process's CPU time per letter.
// Protocol over the IPC channel: parent → { type: 'start', certsDir, atB: string[] } → child { type: 'ready', … };
// parent → { type: 'stats' } → child { type: 'stats', … }; parent → { type: 'stop' } → child exits.
import { readFileSync } from 'node:fs';
import { ensureDevPki } from '../dev-pki.js';
import { startFarSimulator, startMailboxOperatorSimulator, type FarScript } from '../../adapters/digital-post/simulator/index.js';
import { startPrintSimulator } from '../../adapters/print/simulator/index.js';

type Start = { type: 'start'; certsDir: string; atB: string[] };
type Message = Start | { type: 'stats' } | { type: 'stop' };

const send = (m: unknown): void => { process.send?.(m); };
let peakRss = process.memoryUsage().rss;
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100).unref();

let stop: (() => Promise<void>) | undefined;
let stats: (() => unknown) | undefined;

process.on('message', (m: Message) => {
  void (async () => {
    if (m.type === 'start') {
      const pki = await ensureDevPki(m.certsDir);
      const read = (f: string) => readFileSync(f, 'utf8');
      const caBundle = read(pki.caBundleFile);
      const tlsOf = (party: Parameters<typeof pki.cert>[0]) => ({ key: read(pki.key(party)), cert: read(pki.cert(party)), ca: caBundle });
      const mailboxA = await startMailboxOperatorSimulator({ port: 0, tls: tlsOf('mailbox-a-tls'), signatureTrust: caBundle, name: 'A' });
      const mailboxB = await startMailboxOperatorSimulator({ port: 0, tls: tlsOf('mailbox-b-tls'), signatureTrust: caBundle, name: 'B' });
      const script: Record<string, FarScript> = {};
      for (const id of m.atB) script[id] = { kind: 'reachable', operator: 'B' };
      const far = await startFarSimulator({
        port: 0, tls: tlsOf('far-tls'), script, unscripted: { kind: 'reachable', operator: 'A' },
        operators: { A: { serviceAddress: mailboxA.serviceAddress }, B: { serviceAddress: mailboxB.serviceAddress } },
      });
      const print = await startPrintSimulator({ port: 0, tls: tlsOf('print-tls') });
      const cpu0 = process.cpuUsage();
      stats = () => {
        const cpu = process.cpuUsage(cpu0);
        const operatorCalls = [...mailboxA.calls, ...mailboxB.calls];
        return {
          type: 'stats',
          farCalls: far.calls.length,
          farRetries: far.calls.filter((c) => c.result !== 'answered').length,
          operatorCalls: operatorCalls.length,
          operatorNonAccepted: operatorCalls.filter((c) => c.result !== 'accepted').length,
          cpuMs: (cpu.user + cpu.system) / 1000,
          peakRssMb: Math.round(Math.max(peakRss, process.memoryUsage().rss) / (1024 * 1024)),
        };
      };
      stop = async () => { await Promise.all([mailboxA.close(), mailboxB.close(), far.close(), print.close()]); };
      send({ type: 'ready', farUrl: far.url, printUrl: print.url });
    } else if (m.type === 'stats') {
      send(stats ? stats() : { type: 'error', message: 'not started' });
    } else if (m.type === 'stop') {
      await stop?.();
      process.exit(0);
    }
  })().catch((e: unknown) => {
    send({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
