// Issue 7 memory work (docs/sdk.md "Memory"): the 30 MB JSON request body of POST /v1/sdk/messages is parsed
// without a full-size text (src/lib/large-json.ts) and its Idempotency-Key hash is computed without a second
// full-size string (src/domain/request-hash.ts). Both must give exactly what the plain versions gave.
import { createHash } from 'node:crypto';
import { parseJsonBytes } from '../../../src/lib/large-json.js';
import { requestHash } from '../../../src/domain/request-hash.js';

const BIG = 'QUJD'.repeat(30_000);

describe('parseJsonBytes', () => {
  const same = (text: string): void => {
    const bytes = Buffer.from(text, 'utf8');
    expect(parseJsonBytes(bytes)).toEqual(JSON.parse(text));
  };

  it('gives JSON.parse\'s value, with large plain strings taken from the bytes', () => {
    same(JSON.stringify({ data: { attributes: { label: 'Hej', digitalDocument: [{ contentFiles: [{ content: BIG }, { content: `${BIG}+/=` }] }] } } }));
    same(JSON.stringify([BIG, 1, null, true, { a: BIG }]));
    same(JSON.stringify(BIG));
  });

  it('leaves strings with escapes, control or non-ASCII characters to JSON.parse', () => {
    same(JSON.stringify({ a: `${BIG}\n`, b: `${BIG}"quoted"`, c: `${BIG}å`, d: `${BIG}\\`, e: `${BIG}\u2028` }));
    same(`{"a": "${BIG}\\u0041", "b": "x\\"${BIG}"}`);
  });

  it('parses a large key, and a value equal to another one, the ordinary way', () => {
    same(`{"${BIG}": 1, "k": "${BIG}"}`);
    same(`{"a": "${BIG}", "a": "${BIG}x"}`);
  });

  it('throws SyntaxError exactly where JSON.parse does', () => {
    for (const text of [`{"a": "${BIG}"`, `{"a": "${BIG}" "b": 1}`, `{"a": "${BIG}\u0001"}`, `\uFEFF{"a": "${BIG}"}`, `{"a": ${BIG}}`, '']) {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      expect(() => parseJsonBytes(Buffer.from(text, 'utf8'))).toThrow(SyntaxError);
    }
  });
});

describe('requestHash', () => {
  /** The implementation before the memory work: JSON.stringify of the key-sorted copy. */
  function previous(body: unknown): string {
    const canon = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(canon);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]));
      return v;
    };
    return createHash('sha256').update(JSON.stringify(canon(body))).digest('hex');
  }

  it('is the digest it always was, for large strings and every JSON corner', () => {
    const cases: unknown[] = [
      { b: 1, a: [1, 'x', null, true, { z: 1, y: undefined, f: () => 1 }], 10: 1, 2: 2 },
      JSON.parse('{"__proto__": {"a": 1}, "k": "v"}'),
      [undefined, () => 1, Symbol('s'), Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { d: new Date(0), s: new String('ab'), n: null },
      BIG, { BIG }, { big: `${BIG}\n` }, { big: `${BIG}"` }, { big: `${BIG}å` }, { big: `${BIG}\ud83d\ude00` }, { big: `${BIG}\ud83d` },
      'short', 12, null, true, '\u2028x',
      JSON.parse(JSON.stringify({ data: { type: 'messages', attributes: { digitalDocument: [{ contentFiles: [{ content: BIG }] }], label: 'Hej' } } })),
    ];
    for (const c of cases) expect(requestHash(c)).toBe(previous(c));
  });

  it('throws where it threw before (nothing to hash)', () => {
    // (Node's own TypeError, from another realm than the test's: matched by message.)
    expect(() => previous(undefined)).toThrow('argument must be of type string');
    expect(() => requestHash(undefined)).toThrow('argument must be of type string');
  });
});
