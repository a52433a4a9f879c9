// Signing channel adapters (../shared/specs/signing.md): validation (§9), organisation seal (§6.4) and the
// Sweden Connect central signing service over the DSS extension (§2–§6). The composition root picks these;
// the simulator lives in ./simulator and is started separately.
export { createSignatureValidator, detectFormat, validateSignatures, type SignatureValidatorOptions } from './validation/index.js';
export { signatureValidateCommand, EXIT as SIGNATURE_VALIDATE_EXIT, type CliIo, type SignatureValidateOptions } from './validation/cli.js';
export { createOrganisationSealer, sealKeyFromPem } from './seal/index.js';
export { autoPostFormHtml, createCentralSigningService, type CentralSigningOptions } from './dss/index.js';
