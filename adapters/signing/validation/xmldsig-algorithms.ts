// XML-DSig algorithm allowlist: ../shared/specs/dependencies.md XML rule 8 (RSA-SHA256/512 or ECDSA-SHA256+,
// SHA-256+ digests, C14N without comments; never SHA-1 or HMAC) and signing.md §9.2 step 6.
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type BinaryLike, type KeyLike, type KeyObject } from 'node:crypto';
import { C14nCanonicalization, ExclusiveCanonicalization, SignedXml } from 'xml-crypto';

export const XMLDSIG = {
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  ecdsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
} as const;

/** Known but too weak: reported as CRYPTO_CONSTRAINTS_FAILURE_NO_POE rather than as a format error. */
export const WEAK_ALGORITHMS = new Set([
  'http://www.w3.org/2000/09/xmldsig#sha1',
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'http://www.w3.org/2000/09/xmldsig#dsa-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#md5',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-md5',
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
]);

const HASH_OF: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  [XMLDSIG.sha256]: 'sha256',
  [XMLDSIG.sha384]: 'sha384',
  [XMLDSIG.sha512]: 'sha512',
};
const SIG_HASH: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  [XMLDSIG.rsaSha256]: 'sha256',
  [XMLDSIG.rsaSha384]: 'sha384',
  [XMLDSIG.rsaSha512]: 'sha512',
  [XMLDSIG.ecdsaSha256]: 'sha256',
  [XMLDSIG.ecdsaSha384]: 'sha384',
  [XMLDSIG.ecdsaSha512]: 'sha512',
};

export const ALLOWED_DIGESTS = new Set(Object.keys(HASH_OF));
export const ALLOWED_SIGNATURES = new Set(Object.keys(SIG_HASH));
export const ALLOWED_C14N = new Set<string>([XMLDSIG.excC14n, XMLDSIG.c14n]);
export const ALLOWED_TRANSFORMS = new Set<string>([XMLDSIG.enveloped, XMLDSIG.excC14n, XMLDSIG.c14n]);

export const nodeHashOf = (digestUri: string): 'sha256' | 'sha384' | 'sha512' | undefined => HASH_OF[digestUri];
export const nodeHashOfSignature = (sigUri: string): 'sha256' | 'sha384' | 'sha512' | undefined => SIG_HASH[sigUri];
export const isEcdsa = (sigUri: string): boolean => sigUri.includes('#ecdsa-');

/** Signature algorithm URI for a key type (SHA-256). */
export const signatureUriFor = (keyType: 'RSA' | 'EC'): string => (keyType === 'EC' ? XMLDSIG.ecdsaSha256 : XMLDSIG.rsaSha256);

type Cb<T> = (err: Error | null, value?: T) => void;

/** xml-crypto algorithm class over Node crypto; ECDSA values are r||s (XML-DSig 1.1 §6.4.3), not DER. */
function signatureAlgorithm(uri: string) {
  const hash = SIG_HASH[uri]!;
  const ecdsa = isEcdsa(uri);
  return class {
    getSignature(signedInfo: BinaryLike, privateKey: KeyLike, callback?: Cb<string>): string | undefined {
      const key: KeyObject = typeof privateKey === 'string' || Buffer.isBuffer(privateKey) ? createPrivateKey(privateKey) : privateKey;
      const value = cryptoSign(hash, Buffer.from(signedInfo as string), { key, dsaEncoding: ecdsa ? 'ieee-p1363' : 'der' }).toString('base64');
      if (callback) {
        callback(null, value);
        return undefined;
      }
      return value;
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string, callback?: Cb<boolean>): boolean | undefined {
      let ok: boolean;
      try {
        const k: KeyObject = typeof key === 'string' || Buffer.isBuffer(key) ? createPublicKey(key) : key;
        ok = cryptoVerify(hash, Buffer.from(material, 'utf8'), { key: k, dsaEncoding: ecdsa ? 'ieee-p1363' : 'der' }, Buffer.from(signatureValue, 'base64'));
      } catch {
        ok = false;
      }
      if (callback) {
        callback(null, ok);
        return undefined;
      }
      return ok;
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

function hashAlgorithm(uri: string) {
  const hash = HASH_OF[uri]!;
  return class {
    getHash(xml: string): string {
      return createHash(hash).update(xml, 'utf8').digest('base64');
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

/**
 * Replace xml-crypto's algorithm tables with the allowlist, so anything else fails inside the library too
 * (defence in depth behind our own pre-check of the SignedInfo).
 */
export function restrictAlgorithms(sx: SignedXml): SignedXml {
  const bag = sx as unknown as {
    SignatureAlgorithms: Record<string, unknown>;
    HashAlgorithms: Record<string, unknown>;
    CanonicalizationAlgorithms: Record<string, unknown>;
  };
  bag.SignatureAlgorithms = Object.fromEntries([...ALLOWED_SIGNATURES].map((u) => [u, signatureAlgorithm(u)]));
  bag.HashAlgorithms = Object.fromEntries([...ALLOWED_DIGESTS].map((u) => [u, hashAlgorithm(u)]));
  // Keep the library's own enveloped-signature transform and drop every *WithComments variant. Inclusive
  // C14N 1.0 stays accepted because received XAdES often uses it; its output does not depend on our choice.
  bag.CanonicalizationAlgorithms = {
    [XMLDSIG.excC14n]: ExclusiveCanonicalization,
    [XMLDSIG.c14n]: C14nCanonicalization,
    [XMLDSIG.enveloped]: bag.CanonicalizationAlgorithms[XMLDSIG.enveloped],
  };
  return sx;
}
