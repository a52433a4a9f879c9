// Which /v1 operations need a caller before their body is judged (src/http.ts protectedOperations), read from
// the committed contract: the global `security`, and `security: []` where an operation opts out.
import path from 'node:path';
import { loadOpenApi } from '../../src/api/ops.router.js';
import { protectedOperations } from '../../src/http.js';

const spec = loadOpenApi(path.resolve(import.meta.dirname, '../../contracts/api/openapi.yaml'));
const isProtected = protectedOperations(spec);

describe('protectedOperations', () => {
  it('protects every operation under the global security', () => {
    expect(isProtected('POST', '/v1/digital-post/letters')).toBe(true);
    expect(isProtected('GET', '/v1/digital-post/letters/3b0c1f9e-0000-4000-8000-000000000001')).toBe(true);
    expect(isProtected('POST', '/v1/sdk/messages')).toBe(true);
    expect(isProtected('DELETE', '/v1/admin/function-addresses/42/grants/p-1')).toBe(true);
  });
  it('leaves the operations that say security: [] open (the signing browser steps)', () => {
    expect(isProtected('GET', '/v1/signing/requests/abc/sign')).toBe(false);
    expect(isProtected('POST', '/v1/signing/responses')).toBe(false);
  });
  it('judges by method: the same path can be open for one method and protected for another', () => {
    expect(isProtected('GET', '/v1/signing/requests/abc')).toBe(true);
  });
  it('leaves unknown paths and methods to the contract validator (404/405) and ignores non-/v1 paths', () => {
    expect(isProtected('GET', '/v1/not-a-route')).toBe(false);
    expect(isProtected('PUT', '/v1/digital-post/letters')).toBe(false);
    expect(isProtected('GET', '/healthz')).toBe(false);
    expect(isProtected('GET', '/me')).toBe(false);
  });
  it('matches a template segment against one path segment only', () => {
    expect(isProtected('GET', '/v1/digital-post/letters/a/b')).toBe(false);
  });
  it('takes an operation-level list over the global one, both ways', () => {
    const f = protectedOperations({
      security: [{ bearer: [] }],
      paths: { '/v1/a/{id}': { get: {}, post: { security: [] } }, '/v1/a/search': { get: { security: [] } }, '/v1/b': { get: { security: [{ bearer: [] }] } } },
    });
    expect(f('GET', '/v1/a/1')).toBe(true);
    expect(f('POST', '/v1/a/1')).toBe(false);
    expect(f('GET', '/v1/a/search')).toBe(false); // the literal path wins over the template
    expect(protectedOperations({ paths: { '/v1/b': { get: { security: [{ bearer: [] }] } }, '/v1/c': { get: {} } } })('GET', '/v1/c')).toBe(false);
  });
});
