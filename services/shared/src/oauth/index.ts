// Public API of the OAuth 1.0a (RFC 5849) core.
export * from "./types.js";
export { percentEncode, percentDecode, formDecode } from "./encoding.js";
export {
  parseAuthorizationHeader,
  formatAuthorizationHeader,
  MAX_AUTHORIZATION_LENGTH,
  KNOWN_OAUTH_PARAMS,
  type ParsedAuthorization,
} from "./header.js";
export {
  signatureBaseString,
  collectParameters,
  normalizeParameters,
  baseStringUri,
  splitUrl,
  baseUrlFor,
  isFormContentType,
  type BaseStringInput,
  type EncodedParam,
} from "./base-string.js";
export {
  signRequest,
  signRequestDetailed,
  bodyHash,
  randomNonce,
  type SignRequestOptions,
  type SignedRequest,
} from "./sign.js";
export { createVerifier, type Verifier, type VerifierConfig } from "./verify.js";
export {
  countParameters,
  parseParameters,
  type ParameterRules,
  type ParsedParameters,
} from "./parameters.js";
