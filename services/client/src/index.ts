// @signet/client: call a Signet data service from Node (README.md).
export {
  createSignetClient,
  signetErrorOf,
  SignetApiError,
  SignetClockSkewError,
  type FormValue,
  type SignedRequestOptions,
  type SignetClient,
  type SignetClientOptions,
  type SignetFetchInit,
} from "./client.js";
export {
  bodyHash,
  isFormContentType,
  percentEncode,
  randomNonce,
  sign,
  type Credentials,
  type SignatureMethod,
  type Signature,
  type SignOptions,
} from "./sign.js";
