// The NATS subjects and their payloads (docs/api.md, "Events (NATS)"): the revocation
// events and the data pods' presence announcements (docs/design.md, "Pod presence"), which
// the registry uses to know how many confirmations to wait for.
export const SUBJECTS = {
  consumerRevoked: "signet.consumer.revoked",
  consumerRotated: "signet.consumer.rotated",
  userDisabled: "signet.user.disabled",
  tokenRevoked: "signet.token.revoked",
  /** A consumer's scopes, expiry or secrets changed, or its tokens were revoked (ConsumerUpdatedEvent). */
  consumerUpdated: "signet.consumer.updated",
  /** Every token issued before an instant is dead (TokensNotBeforeEvent, POST /revoke-all). */
  tokensNotBefore: "signet.tokens.not_before",
  /** A data pod is alive and listening for the events above (PodHeartbeatEvent). */
  podHeartbeat: "signet.pod.heartbeat",
  /** A data pod is shutting down cleanly (PodGoodbyeEvent). */
  podGoodbye: "signet.pod.goodbye",
  /** A registry asks every data pod to send a heartbeat now (PodDiscoverEvent). */
  podDiscover: "signet.pod.discover",
} as const;
export type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];

export interface ConsumerRevokedEvent {
  key: string;
  at: string;
  reason: string;
  actor: string;
}
export interface ConsumerRotatedEvent {
  key: string;
  at: string;
  actor: string;
}
export interface UserDisabledEvent {
  user_id: string;
  at: string;
  actor: string;
}
/**
 * Pods forget the consumer and every token issued through it, and read them anew; `change`
 * says why (scopes, expiry, rotation_finished, tokens_revoked) for logs only.
 */
export interface ConsumerUpdatedEvent {
  key: string;
  at: string;
  actor: string;
  change?: string;
}
/** Pods refuse every token created before `issued_before` (ISO 8601) from now on. */
export interface TokensNotBeforeEvent {
  issued_before: string;
  at: string;
  actor: string;
}
export interface TokenRevokedEvent {
  token: string;
  at: string;
}

/** What a data pod answers to an event that asked for a reply, once it has evicted. */
export interface EvictionConfirmation {
  pod: string;
  subject: string;
  evicted: true;
}

/**
 * Sent by every data pod once it listens for the revocation events, then every
 * `interval_ms`, after a NATS reconnect and in answer to signet.pod.discover. `pod` is the
 * id the pod puts in its EvictionConfirmation. The registry forgets a pod that has not
 * sent one for a few of its intervals.
 */
export interface PodHeartbeatEvent {
  pod: string;
  at: string;
  interval_ms: number;
}
/** Sent by a data pod that is shutting down cleanly: stop waiting for its confirmations. */
export interface PodGoodbyeEvent {
  pod: string;
  at: string;
}
/** Sent by a registry at start and after a NATS reconnect. */
export interface PodDiscoverEvent {
  at: string;
}
