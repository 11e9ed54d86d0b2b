// Payloads of the contract's NATS subjects (CONTRACT.md, "Events").
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
