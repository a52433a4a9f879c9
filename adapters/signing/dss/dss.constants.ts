// Protocol constants of the Sweden Connect DSS extension: ../shared/specs/signing.md §3 (SignRequest),
// §4 (binding), §5.2 (result codes) and REG §3.1.7 (status codes). Namespaces are matched by URI, never prefix.
import { SIGNING_ERROR_CODES, type SigningErrorCode } from '../../../src/domain/signing.js';

export const NS = {
  dss: 'urn:oasis:names:tc:dss:1.0:core:schema',
  csig: 'http://id.elegnamnden.se/csig/1.1/dss-ext/ns',
  saml2: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const DSS_PROFILE = 'http://id.elegnamnden.se/csig/1.1/dss-ext/profile';
export const DSS_BINDING = 'POST/XML/1.0';
export const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
export const URI_NAME_FORMAT = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';

export const SAML_ATTR = {
  personalIdentityNumber: 'urn:oid:1.2.752.29.4.13',
  givenName: 'urn:oid:2.5.4.42',
  surname: 'urn:oid:2.5.4.4',
  displayName: 'urn:oid:2.16.840.1.113730.3.1.241',
  commonName: 'urn:oid:2.5.4.3',
  country: 'urn:oid:2.5.4.6',
  signMessageDigest: 'urn:oid:1.2.752.201.3.14',
} as const;

export const RESULT_MAJOR = {
  success: 'urn:oasis:names:tc:dss:1.0:resultmajor:Success',
  requesterError: 'urn:oasis:names:tc:dss:1.0:resultmajor:RequesterError',
  responderError: 'urn:oasis:names:tc:dss:1.0:resultmajor:ResponderError',
  insufficientInformation: 'urn:oasis:names:tc:dss:1.0:resultmajor:InsufficientInformation',
} as const;

export const RESULT_MINOR = {
  userCancel: 'http://id.elegnamnden.se/sig-status/1.0/user-cancel',
  reqExpired: 'http://id.elegnamnden.se/sig-status/1.0/req-expired',
  userMismatch: 'http://id.elegnamnden.se/sig-status/1.0/user-mismatch',
  unsupportedLoa: 'http://id.elegnamnden.se/sig-status/1.0/unsupported-loa',
  sigmessageError: 'http://id.elegnamnden.se/sig-status/1.0/sigmessage-error',
  authnFailed: 'http://id.swedenconnect.se/sig-status/1.1/authn-failed',
  securityViolation: 'http://id.swedenconnect.se/sig-status/1.1/security-violation',
  notSupported: 'urn:oasis:names:tc:dss:1.0:resultminor:NotSupported',
  keyLookupFailed: 'urn:oasis:names:tc:dss:1.0:resultminor:invalid:KeyLookupFailed',
  generalError: 'urn:oasis:names:tc:dss:1.0:resultminor:GeneralError',
} as const;

/** §5.2 "Our handling": each ResultMinor maps to one stable code; status/retryable decide what the UI offers. */
export const MINOR_TO_ERROR: Readonly<Record<string, { code: SigningErrorCode; status: number; retryable: boolean; message: string }>> = {
  [RESULT_MINOR.userCancel]: { code: SIGNING_ERROR_CODES.userCancel, status: 409, retryable: false, message: 'Signing was cancelled by the user.' },
  [RESULT_MINOR.reqExpired]: { code: SIGNING_ERROR_CODES.requestExpired, status: 409, retryable: true, message: 'The signing request expired; start a new attempt.' },
  [RESULT_MINOR.userMismatch]: { code: SIGNING_ERROR_CODES.userMismatch, status: 403, retryable: false, message: 'The person who authenticated is not the requested signer.' },
  [RESULT_MINOR.unsupportedLoa]: { code: SIGNING_ERROR_CODES.unsupportedLoa, status: 502, retryable: false, message: 'The identity provider does not support the required level of assurance.' },
  [RESULT_MINOR.sigmessageError]: { code: SIGNING_ERROR_CODES.sigmessageError, status: 502, retryable: false, message: 'The sign message could not be shown to the signer.' },
  [RESULT_MINOR.authnFailed]: { code: SIGNING_ERROR_CODES.authnFailed, status: 409, retryable: true, message: 'Authentication for signing failed.' },
  [RESULT_MINOR.securityViolation]: { code: SIGNING_ERROR_CODES.securityViolation, status: 403, retryable: false, message: 'The signing service reported a security violation.' },
  [RESULT_MINOR.notSupported]: { code: SIGNING_ERROR_CODES.notSupported, status: 502, retryable: false, message: 'The signing service did not accept the request.' },
  [RESULT_MINOR.keyLookupFailed]: { code: SIGNING_ERROR_CODES.keyLookupFailed, status: 502, retryable: true, message: 'The signing service could not create a signing key.' },
  [RESULT_MINOR.generalError]: { code: SIGNING_ERROR_CODES.generalError, status: 502, retryable: true, message: 'The signing service failed.' },
};
