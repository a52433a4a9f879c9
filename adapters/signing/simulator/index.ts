// Signing-service simulator entry (../shared/specs/signing.md §2; style.md convention 6).
export {
  authenticateFromSignerParameter,
  startSigningServiceSimulator,
  type Authenticate,
  type AuthenticatedSigner,
  type AuthenticationContext,
  type AuthenticationResult,
  type SignRequestSummary,
  type SigningServiceSimulator,
  type SigningServiceOidcOptions,
  type SigningServiceSimulatorOptions,
  type SimulatedFailure,
} from './signing-service.simulator.js';
