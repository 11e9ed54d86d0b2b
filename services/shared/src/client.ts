// The signed HTTP client lives in @signet/client (services/client), the package other
// services use too; this entry point keeps the names the repository's code has always used.
export {
  createSignetClient as createSignedClient,
  SignetApiError,
  SignetClockSkewError,
  type FormValue,
  type SignedRequestOptions,
  type SignetClient as SignedClient,
  type SignetClientOptions as SignedClientOptions,
} from "@signet/client";
