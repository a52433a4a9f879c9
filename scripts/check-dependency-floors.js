// Fails when an installed copy of a security-sensitive dependency is below its floor
// (../shared/specs/dependencies.md, XML security rule 1). Walks node_modules, so nested copies count too.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const FLOORS = { 'xml-crypto': '6.0.1', '@xmldom/xmldom': '0.9.12', 'node-forge': '1.4.0' };
const ALT_FLOOR = { '@xmldom/xmldom': ['0.8.15', '0.9.0'] }; // the 0.8 line is fine from 0.8.15

const cmp = (a, b) => {
  const pa = a.split(/[.-]/).map(Number), pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) { if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0); }
  return 0;
};
const bad = [];
const walk = (dir, depth) => {
  if (depth > 8 || !existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const full = path.join(dir, e.name);
    if (e.name.startsWith('@')) { walk(full, depth); continue; }
    const pj = path.join(full, 'package.json');
    if (existsSync(pj)) {
      const { name, version } = JSON.parse(readFileSync(pj, 'utf8'));
      const floor = FLOORS[name];
      if (floor && typeof version === 'string') {
        const alt = ALT_FLOOR[name];
        const ok = alt && cmp(version, alt[1]) < 0 ? cmp(version, alt[0]) >= 0 : cmp(version, floor) >= 0;
        if (!ok) bad.push(`${name}@${version} at ${full}`);
      }
    }
    walk(path.join(full, 'node_modules'), depth + 1);
  }
};
walk('node_modules', 0);
if (bad.length > 0) {
  console.error(`Security floor violated:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
console.log(`dependency floors ok (${Object.keys(FLOORS).join(', ')})`);
