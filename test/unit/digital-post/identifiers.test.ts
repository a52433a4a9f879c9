// Personnummer, samordningsnummer and organisation numbers (../shared/specs/digital-post.md §3, checklist §11 #14–#15).
import {
  ageOf,
  isCoordinationNumber,
  luhnCheckDigit,
  luhnValid,
  parseOrganisationNumber,
  parsePersonalIdentityNumber,
  parseRecipientId,
  toWireOrganisationNumber,
  type PersonalIdentityNumber,
} from '../../../src/domain/digital-post.js';

const today = new Date('2026-11-23T12:00:00Z');

describe('Luhn check digit (§3.2 worked examples)', () => {
  it.each([
    ['personnummer 19811218-9876', '811218987', 6],
    ['samordningsnummer 19701063-2391', '701063239', 1],
    ['Kivra AB 556840-2266', '556840226', 6],
    ['Sundsvalls kommun 212000-2411', '212000241', 1],
  ])('computes the check digit of %s', (_name, nine, check) => {
    expect(luhnCheckDigit(nine)).toBe(check);
    expect(luhnValid(`${nine}${check}`)).toBe(true);
  });

  it('rejects the Sundsvall fixture 19010101-0159 (check digit should be 5)', () => {
    expect(luhnValid('0101010159')).toBe(false);
    expect(luhnCheckDigit('010101015')).toBe(5);
  });
});

describe('parsePersonalIdentityNumber', () => {
  it.each([
    ['12 digits', '198112189876', '198112189876'],
    ['12 digits with hyphen', '19811218-9876', '198112189876'],
    ['surrounding spaces', '  19530323-1855 ', '195303231855'],
    ['samordningsnummer (day 63 = 3 + 60)', '19701063-2391', '197010632391'],
    ['public test person', '198101052382', '198101052382'],
    ['born 1890 (synthetic simulator number)', '189001019802', '189001019802'],
    ['leap day', '20000229-0005', undefined],
  ])('accepts %s', (_name, input, normalised) => {
    const r = parsePersonalIdentityNumber(input, '/recipient', { today });
    if (normalised === undefined) {
      // 2000-02-29 exists; compute a valid number for it rather than hard-coding one.
      const nine = '000229000';
      const n = `20000229000${luhnCheckDigit(nine)}`;
      expect(parsePersonalIdentityNumber(n, '/recipient', { today })).toEqual({ ok: true, value: n });
      return;
    }
    expect(r).toEqual({ ok: true, value: normalised });
  });

  it.each([
    ['a wrong check digit', '198112189875', 'check digit'],
    ['a Sundsvall fixture that fails Luhn', '190101010159', 'check digit'],
    ['30 February (strict date)', `20230230${'123'}${luhnCheckDigit('230230123')}`, 'does not exist'],
    ['29 February in a common year', `20230229${'123'}${luhnCheckDigit('230229123')}`, 'does not exist'],
    ['month 13', `19901301${'238'}${luhnCheckDigit('901301238')}`, 'does not exist'],
    ['samordningsnummer with day 92 (32 + 60)', `19700192${'239'}${luhnCheckDigit('700192239')}`, 'does not exist'],
    ['a samordningsnummer for 31 April (day 91)', `19700491${'239'}${luhnCheckDigit('700491239')}`, 'does not exist'],
    ['a date in the future', `20301212${'121'}${luhnCheckDigit('301212121')}`, 'future'],
    ['the 10-digit form (century ambiguous)', '811218-9876', '12 digits'],
    ['letters', '19811218-98X6', '12 digits'],
    ['an organisation number', '165568402266', '12 digits'],
    ['a 13-digit number', '1981121898761', '12 digits'],
  ])('rejects %s with a message naming the field', (_name, input, message) => {
    const r = parsePersonalIdentityNumber(input, '/recipient', { today });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe('/recipient');
      expect(r.error.message).toContain(message);
      // The message never repeats the personal data it refused.
      expect(r.error.message).not.toContain(input.replace('-', '').slice(0, 8));
    }
  });

  it('rejects a non-string', () => {
    expect(parsePersonalIdentityNumber(198112189876, '/x').ok).toBe(false);
  });

  it('derives the century of a 10-digit number only when allowed (Skatteverket rule)', () => {
    expect(parsePersonalIdentityNumber('811218-9876', '/r', { allowTenDigits: true, today })).toEqual({ ok: true, value: '198112189876' });
    expect(parsePersonalIdentityNumber('121212-1212', '/r', { allowTenDigits: true, today })).toEqual({ ok: true, value: '201212121212' });
    // "+" marks 100 years or older.
    expect(parsePersonalIdentityNumber('121212+1212', '/r', { allowTenDigits: true, today })).toEqual({ ok: true, value: '191212121212' });
  });

  it('tells a samordningsnummer from a personnummer and computes ages from the real birth date', () => {
    const sam = '197010632391' as PersonalIdentityNumber;
    expect(isCoordinationNumber(sam)).toBe(true);
    expect(isCoordinationNumber('198112189876' as PersonalIdentityNumber)).toBe(false);
    expect(ageOf(sam, new Date('2026-10-02T00:00:00Z'))).toBe(55);
    expect(ageOf(sam, new Date('2026-10-03T00:00:00Z'))).toBe(56);
  });
});

describe('parseOrganisationNumber', () => {
  it.each([
    ['with hyphen', '556840-2266'],
    ['10 digits', '5568402266'],
    ['16-prefixed', '165568402266'],
  ])('accepts %s and keeps 10 digits', (_name, input) => {
    expect(parseOrganisationNumber(input)).toEqual({ ok: true, value: '5568402266' });
  });

  it('sends a 10-digit number as 16 + the 10 digits (§11 #15)', () => {
    const r = parseOrganisationNumber('212000-2411');
    expect(r.ok && toWireOrganisationNumber(r.value)).toBe('162120002411');
  });

  it.each([
    ['a third digit below 2 (a personnummer shape)', '8112189876', 'third digit'],
    ['a wrong check digit', '5568402267', 'check digit'],
    ['too short', '55684022', 'organisation number'],
  ])('rejects %s', (_name, input, message) => {
    const r = parseOrganisationNumber(input, '/sender');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(message);
  });

  it('can skip Luhn for a configured development number that fails it', () => {
    expect(parseOrganisationNumber('2120000000').ok).toBe(false);
    expect(parseOrganisationNumber('2120000000', '/config', { luhn: false })).toEqual({ ok: true, value: '2120000000' });
  });
});

describe('parseRecipientId', () => {
  it.each([
    ['19701063-2391', '197010632391', 'samordningsnummer'],
    ['19811218-9876', '198112189876', 'personnummer'],
    ['202100-3898', '162021003898', 'organisation'],
    ['162021003898', '162021003898', 'organisation'],
  ])('parses %s', (input, value, kind) => {
    expect(parseRecipientId(input, '/recipient', { today })).toEqual({ ok: true, value, kind });
  });

  it('rejects a 10-digit personnummer and an impossible date with the field name', () => {
    for (const bad of ['8112189876', `20230230123${luhnCheckDigit('230230123')}`]) {
      const r = parseRecipientId(bad, '/recipients/3', { today });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.field).toBe('/recipients/3');
    }
  });
});
