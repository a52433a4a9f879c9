import { maskPersonalNumbers, redact, MASK } from '../../src/lib/redact.js';

describe('personnummer redactor', () => {
  it.each([
    ['12-digit with hyphen', 'recipient 19900101-2385 failed', `recipient ${MASK} failed`],
    ['12-digit without separator', 'id=199001012385.', `id=${MASK}.`],
    ['10-digit with hyphen', 'pnr 900101-2385', `pnr ${MASK}`],
    ['10-digit with plus (over 100 years)', 'pnr 121212+1212', `pnr ${MASK}`],
    ['10-digit without separator', 'x9001012385y', `x${MASK}y`],
    ['samordningsnummer (day + 60)', 'sam 19701063-2391', `sam ${MASK}`],
    ['inside JSON', '{"to":"201212121212"}', `{"to":"${MASK}"}`],
  ])('masks %s', (_name, input, expected) => {
    expect(maskPersonalNumbers(input)).toBe(expected);
  });

  it.each([
    ['a longer digit run', 'order 1234199001012385999'],
    ['an invalid month', 'value 19901301-2385'],
    ['a 6-digit date', 'date 900101'],
    ['an ISO timestamp', '2026-11-23T17:53:59Z'],
  ])('leaves %s alone', (_name, input) => {
    expect(maskPersonalNumbers(input)).toBe(input);
  });

  it('removes secret keys and masks nested strings', () => {
    const out = redact({ authorization: 'Bearer abc', nested: { note: 'to 19900101-2385' }, body: 'hello', list: ['200001012384'] });
    expect(out).toEqual({ authorization: '[redacted]', nested: { note: `to ${MASK}` }, body: '[redacted]', list: [MASK] });
  });
});

describe('application logger', () => {
  it('never writes a personnummer, a body or a token, wherever it appears', async () => {
    const { createLogger } = await import('../../src/lib/logger.js');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => { lines.push(s); } } });
    logger.info({ event: 'X', recipient: '199001012385', body: 'Hej Anna, ditt beslut', token: 'eyJhbGciOi', note: 'for 900101-2385' }, 'sent to 19900101-2385');
    logger.error({ err: new Error('lookup failed for 200001012384') }, 'failed');
    const out = lines.join('');
    expect(out).not.toMatch(/2385|2384/);
    expect(out).not.toContain('Hej Anna');
    expect(out).not.toContain('eyJhbGciOi');
    expect(out).toContain('"event":"X"');
    expect(out).toContain(MASK);
  });
});
