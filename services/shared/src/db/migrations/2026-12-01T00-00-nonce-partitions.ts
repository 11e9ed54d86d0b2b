// Frozen: never edit a migration that has shipped; add a new file instead.
//
// The replay guard at a fraction of its cost (docs/design.md, "Shared replay protection"):
//
//  * nonce_log (key, ts): the key as in nonce_keys (16 bytes of SHA-256 over consumer, token
//    and nonce), ts the request's oauth_timestamp — RFC 5849 §3.3 scopes a nonce to (timestamp,
//    consumer, token). Partitioned by range of ts; the data pods create the partitions ahead
//    (UNLOGGED unless told otherwise, no autovacuum: insert-only, dropped whole) and drop each
//    one whole once the database's clock is two windows past its end. No per-row DELETE, no
//    index on expiry.
//  * nonce_guard: one row in an UNLOGGED table. Crash recovery empties unlogged tables (and a
//    promoted standby, or a restored base backup, starts with them empty), so the row and
//    the nonces vanish together. A claim that finds no row writes it again with
//    since = now + window + 1: every timestamp a lost row can have held is refused from then
//    on, by every pod, because the claim itself reads the row (no extra round trip, no race).
//  * signet_nonce_claim(keys, timestamps, window): one call per batch, its inner statements
//    planned once per connection (PL/pgSQL caches them). It answers since, the database's
//    clock and the keys that won. Timestamps more than a window ahead of the database's
//    clock or two behind it are not stored (the caller refuses them), so no lost row can
//    have been later than its loss + window, and no row lands in a dropped partition.
//
// Rolling upgrade, without a replay between versions: pods of the previous version keep
// writing nonce_keys. Until a later migration drops it, (1) the claim also refuses a key
// present in nonce_keys, and (2) a trigger on nonce_keys makes an old pod's insert claim the
// same key in nonce_log (with ts = expires_at - window, the window the new pods recorded)
// and refuse it when a new pod already holds the key, or when the guard says the store lost
// rows: every pod, old or new, decides on one unique index. Once no old pod runs, nonce_keys
// stays empty (the new pods purge what is left); the next migration drops it, the trigger
// and the probe.
//
// The first schema's `nonces` table goes: no pod has written it since the nonce-keys
// migration, and a rolling upgrade only ever runs the previous release beside this one.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists nonces`.execute(db);

  await sql`create table nonce_log (
    key bytea not null,
    ts bigint not null,
    primary key (key, ts)
  ) partition by range (ts)`.execute(db);

  await sql`create unlogged table nonce_guard (
    id boolean primary key default true check (id),
    since bigint not null,
    window_seconds bigint
  )`.execute(db);
  // Nothing was lost yet: the new table starts empty and the old one is still consulted.
  await sql`insert into nonce_guard (since, window_seconds) values (0, null)`.execute(db);

  // The guard row, written again (since = now + window + 1) when the store lost it.
  await sql`create function signet_nonce_guard(p_window bigint) returns nonce_guard
    language plpgsql as $$
    declare
      g nonce_guard;
    begin
      select * into g from nonce_guard;
      if not found then
        insert into nonce_guard (since, window_seconds)
          values (floor(extract(epoch from now()))::bigint + coalesce(p_window, 300) + 1, p_window)
          on conflict (id) do nothing;
        select * into strict g from nonce_guard;
      elsif p_window is not null and (g.window_seconds is null or g.window_seconds < p_window) then
        update nonce_guard set window_seconds = p_window returning * into g;
      end if;
      return g;
    end $$`.execute(db);

  await sql`create function signet_nonce_claim(
      p_keys bytea[], p_ts bigint[], p_window bigint,
      out since bigint, out db_now bigint, out won bytea[])
    language plpgsql as $$
    declare
      g nonce_guard;
    begin
      select * into g from nonce_guard;
      if not found or g.window_seconds is null or g.window_seconds < p_window then
        g := signet_nonce_guard(p_window);
      end if;
      since := g.since;
      db_now := floor(extract(epoch from now()))::bigint;
      with claimed as (
        insert into nonce_log as n (key, ts)
          select t.key, t.ts from unnest(p_keys, p_ts) as t(key, ts)
          where t.ts >= g.since
            and t.ts between db_now - 2 * p_window and db_now + p_window
            and not exists (select 1 from nonce_keys k where k.key = t.key)
          on conflict do nothing
          returning n.key)
      select array_agg(claimed.key) into won from claimed;
    end $$`.execute(db);

  // Pods of the previous version: their insert into nonce_keys claims the key in nonce_log too.
  await sql`create function signet_nonce_legacy_claim() returns trigger
    language plpgsql as $$
    declare
      g nonce_guard := signet_nonce_guard(null);
      v_ts bigint := new.expires_at - coalesce(g.window_seconds, 300);
      v_now bigint := floor(extract(epoch from now()))::bigint;
    begin
      if v_ts < g.since then return null; end if;
      if v_ts < v_now - 2 * coalesce(g.window_seconds, 300) then return null; end if;
      if exists (select 1 from nonce_log where key = new.key) then return null; end if;
      begin
        insert into nonce_log (key, ts) values (new.key, v_ts) on conflict do nothing;
        if not found then return null; end if;
      exception when check_violation then
        -- no partition holds v_ts: no pod of this version has claimed such a timestamp yet
        -- (they create partitions before they claim), so nonce_keys decides alone
        null;
      end;
      return new;
    end $$`.execute(db);
  await sql`create trigger nonce_keys_legacy_claim before insert on nonce_keys
    for each row execute function signet_nonce_legacy_claim()`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists nonce_keys_legacy_claim on nonce_keys`.execute(db);
  await sql`drop function if exists signet_nonce_legacy_claim()`.execute(db);
  await sql`drop function if exists signet_nonce_claim(bytea[], bigint[], bigint)`.execute(db);
  await sql`drop function if exists signet_nonce_guard(bigint)`.execute(db);
  await sql`drop table if exists nonce_guard`.execute(db);
  await sql`drop table if exists nonce_log`.execute(db);
  await sql`create table if not exists nonces (
    consumer_key text not null,
    token text not null,
    nonce text not null,
    expires_at bigint not null,
    constraint nonces_pkey primary key (consumer_key, token, nonce)
  )`.execute(db);
  await sql`create index if not exists nonces_expires_idx on nonces (expires_at)`.execute(db);
}
