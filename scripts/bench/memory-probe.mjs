// `npm run bench:sdk -- --trace` preloads this into each gateway (node --import): every 20 ms it appends the
// process's memory figures (process.memoryUsage(), bytes) as one JSON line to the file MEMORY_PROBE_FILE, so
// the bench can show what the resident set consisted of at its peak (V8 heap, external/ArrayBuffers, rest).
import { appendFileSync } from 'node:fs';

const file = process.env.MEMORY_PROBE_FILE;
if (file) {
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  }, 20);
  timer.unref();
}
