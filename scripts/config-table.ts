// Writes the README configuration table from src/config (the one place keys are documented), between the
// `config-table` markers. `npm run docs:config` after adding a key; a unit test fails when the README lags.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configTable } from '../src/config/index.js';

const esc = (s: string) => s.replace(/\|/g, '\\|');
export function renderConfigTable(): string {
  const rows = configTable().map((r) => `| \`${r.key}\`${r.secret ? ` (secret; or \`${r.key}_FILE\`)` : ''} | \`${esc(r.default)}\` | ${esc(r.doc)} |`);
  return ['| key | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

const readme = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md');
const text = readFileSync(readme, 'utf8');
const out = text.replace(/<!-- config-table:start -->[\s\S]*<!-- config-table:end -->/, `<!-- config-table:start -->\n${renderConfigTable()}\n<!-- config-table:end -->`);
writeFileSync(readme, out);
