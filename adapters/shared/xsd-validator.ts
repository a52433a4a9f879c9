// XSD validation with libxml2 compiled to WebAssembly (../shared/specs/dependencies.md: libxml2-wasm;
// xmllint may be absent). Schemas come only from files we name (our contracts/ or, in tests, the
// reference folder); imports resolve relative to the entry file through the fs input provider. Documents
// with a DOCTYPE are refused before libxml2 sees them, and entity substitution is never enabled.
import { readFileSync } from 'node:fs';
import { XmlDocument, XsdValidator, XmlValidateError } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';

let providersRegistered = false;

export type XsdResult = { valid: true } | { valid: false; errors: string[] };

export interface XsdValidatorHandle {
  validate(xml: string | Buffer): XsdResult;
  dispose(): void;
}

/** Load an XSD (with its imports/includes, resolved from disk relative to `entryXsdPath`). */
export function loadXsdValidator(entryXsdPath: string): XsdValidatorHandle {
  if (!providersRegistered) {
    xmlRegisterFsInputProviders();
    providersRegistered = true;
  }
  const schemaDoc = XmlDocument.fromBuffer(readFileSync(entryXsdPath), { url: entryXsdPath });
  let validator: XsdValidator;
  try {
    validator = XsdValidator.fromDoc(schemaDoc);
  } finally {
    schemaDoc.dispose();
  }
  return {
    validate(xml) {
      const text = typeof xml === 'string' ? xml : xml.toString('utf8');
      if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) return { valid: false, errors: ['DOCTYPE/ENTITY declarations are refused'] };
      let doc: XmlDocument;
      try {
        doc = XmlDocument.fromString(text);
      } catch (e) {
        return { valid: false, errors: [`not well-formed: ${e instanceof Error ? e.message : String(e)}`] };
      }
      try {
        validator.validate(doc);
        return { valid: true };
      } catch (e) {
        if (e instanceof XmlValidateError) return { valid: false, errors: e.details.map((d) => `${d.line}: ${d.message.trim()}`) };
        return { valid: false, errors: [e instanceof Error ? e.message : String(e)] };
      } finally {
        doc.dispose();
      }
    },
    dispose() {
      validator.dispose();
    },
  };
}
