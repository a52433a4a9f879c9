// Pure rules behind the login checks (oidc-loa3.md §3.2 exact acr match, §5.1 6.9 identity claims, §10 row 38).
// No sockets; kept next to the integration tests of issue 4 because they are the same security checks.
import { acrRequestParameters, checkAcr, requestedAcrValues } from '../../../src/auth/acr.js';
import { safeReturnPath } from '../../../src/auth/cookies.js';
import { identityFromClaims, identityHash, isValidHsaId, isValidPersonalNumber } from '../../../src/auth/identity.js';
import { hasScope, parseScope } from '../../../src/auth/scopes.js';
import { devUsers } from '../../../adapters/identity/simulator/users.js';

const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
const ACCEPTED = [LOA3, 'http://id.elegnamnden.se/loa/1.0/loa4'];

describe('acr rules', () => {
  it('accepts only exact members of the accepted set', () => {
    expect(checkAcr(LOA3, ACCEPTED)).toEqual({ ok: true, acr: LOA3 });
    expect(checkAcr('http://id.elegnamnden.se/loa/1.0/loa2', ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_NOT_ACCEPTED' });
    expect(checkAcr(`${LOA3}/`, ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_NOT_ACCEPTED' });
    expect(checkAcr('http://id.sambi.se/loa/loa3', ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_NOT_ACCEPTED' });
    expect(checkAcr(undefined, ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_MISSING' });
    expect(checkAcr('', ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_MISSING' });
    expect(checkAcr(3, ACCEPTED)).toMatchObject({ ok: false, reason: 'ACR_NOT_ACCEPTED' });
  });

  it('requests acr as an essential claim, or as acr_values without a claims parameter', () => {
    const values = requestedAcrValues(LOA3, ACCEPTED);
    expect(values[0]).toBe(LOA3);
    const claims = JSON.parse(acrRequestParameters('claims', values, { auth_time: { essential: true } }).claims ?? '{}');
    expect(claims).toEqual({ id_token: { acr: { essential: true, values }, auth_time: { essential: true } } });
    expect(acrRequestParameters('acr_values', values, { auth_time: null })).toEqual({ acr_values: values.join(' ') });
  });
});

describe('identity claims', () => {
  it('validates personnummer and samordningsnummer by date and Luhn digit', () => {
    expect(isValidPersonalNumber('199001012385')).toBe(true);
    expect(isValidPersonalNumber('199001012386')).toBe(false);
    expect(isValidPersonalNumber('199002302385')).toBe(false);
    expect(isValidPersonalNumber('19900101238')).toBe(false);
    expect(isValidPersonalNumber('199001612382')).toBe(false);
    expect(isValidPersonalNumber('199001612382', true)).toBe(true);
    expect(isValidHsaId('SE2120000000-dev1')).toBe(true);
    expect(isValidHsaId('2120000000-dev1')).toBe(false);
  });

  it('gives every dev persona with a personnummer a valid one', () => {
    for (const u of devUsers()) if (u.personalIdentityNumber !== undefined) expect(isValidPersonalNumber(u.personalIdentityNumber)).toBe(true);
  });

  it('prefers personnummer, refuses a malformed one instead of falling back, and reports a missing identity', () => {
    const pnr = 'https://id.oidc.se/claim/personalIdentityNumber';
    const aff = 'https://id.oidc.se/claim/orgAffiliation';
    expect(identityFromClaims({ [pnr]: '199001012385', [aff]: 'x@2120000000', name: 'A' })).toMatchObject({ ok: true, identity: { key: { type: 'personalIdentityNumber' }, name: 'A' } });
    expect(identityFromClaims({ [pnr]: '199001012386', [aff]: 'x@2120000000' })).toEqual({ ok: false, reason: 'IDENTITY_CLAIM_MALFORMED' });
    expect(identityFromClaims({ [aff]: 'x@2120000000' })).toMatchObject({ ok: true, identity: { key: { type: 'orgAffiliation' }, orgNumber: '2120000000' } });
    expect(identityFromClaims({ sub: 'x' })).toEqual({ ok: false, reason: 'IDENTITY_CLAIM_MISSING' });
    expect(identityHash({ type: 'personalIdentityNumber', value: '199001012385' })).not.toContain('199001012385');
  });
});

describe('return paths and scopes', () => {
  it('keeps only same-site relative return paths', () => {
    expect(safeReturnPath('/console/inbox?x=1')).toBe('/console/inbox?x=1');
    for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'me', '', '/a\r\nSet-Cookie: x=y', undefined, 42]) expect(safeReturnPath(bad)).toBe('/me');
  });

  it('accepts urn:sdk.api:sendMessages where urn:sdk.api:sendMessage is required, and nothing looser', () => {
    expect(hasScope(['urn:sdk.api:sendMessages'], 'urn:sdk.api:sendMessage')).toBe(true);
    expect(hasScope(['urn:sdk.api:sendMessage'], 'urn:sdk.api:sendMessages')).toBe(false);
    expect(hasScope(['urn:sdk.api:getMessageByFilter'], 'urn:sdk.api:getMessage')).toBe(false);
    expect(parseScope('a  b ')).toEqual(['a', 'b']);
    expect(parseScope(['a'])).toEqual([]);
  });
});
