// Frozen: never edit a migration that has shipped; add a new file instead.
//
// The nonce claim at a fraction of its PostgreSQL cost (docs/design.md, "Shared replay
// protection"; README, "Performance", measures each part):
//
//  * nonce_log's primary key becomes (ts, key) instead of (key, ts). The same uniqueness, but
//    a batch's rows, whose timestamps are seconds apart, now land in one small, cache-warm
//    corner of the index instead of at random places all over it (one cache miss per index
//    level per row). The index is rebuilt on every partition in this transaction: claims wait
//    for it (about 0.65 s per million rows held; a pod keeps about 17 minutes of nonces).
//  * signet_nonce_claim_batch(keys, timestamps, window): as signet_nonce_claim, but it inserts
//    the batch with a plain INSERT (no speculative insertion, no RETURNING) and answers the
//    1-based positions that lost (null when none) and how many rows it stored (the pod checks
//    that against what it counts as won); only a batch holding a key already stored,
//    or the same (key, ts) twice, takes the row-by-row path (ON CONFLICT DO NOTHING). The
//    probe of nonce_keys, per row until now, runs only while that table holds rows (pods of
//    the release before nonce-partitions, during a rolling upgrade from it). Pods of the
//    previous release keep calling signet_nonce_claim, unchanged: both insert into nonce_log,
//    so one unique index decides between them.
//  * signet_nonce_legacy_claim (the trigger on nonce_keys) no longer looks a key up in
//    nonce_log whatever its timestamp — with ts first in the key that lookup reads every
//    partition. It claims (key, expires_at - window) like before, which is exactly the row a
//    pod of this version writes, as every pod must use the same window (SIGNET_TIMESTAMP_WINDOW).
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // the rebuild takes about 0.65 s per million rows held (on the development machine), which
  // a busy primary can push past the pool's 5 s statement timeout; but waiting long for the
  // lock would queue every pod's claims behind it (a pg_dump holding a partition, say): fail
  // fast instead, the migration is retried (the Job, the pods' initContainers)
  await sql`set local statement_timeout = '120s'`.execute(db);
  await sql`set local lock_timeout = '5s'`.execute(db);
  await sql`alter table nonce_log drop constraint nonce_log_pkey`.execute(db);
  await sql`alter table nonce_log add constraint nonce_log_pkey primary key (ts, key)`.execute(db);

  await sql`create function signet_nonce_claim_batch(
      p_keys bytea[], p_ts bigint[], p_window bigint,
      out since bigint, out db_now bigint, out lost int[], out stored int)
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
      if not exists (select 1 from nonce_keys) then
        begin
          insert into nonce_log (key, ts)
            select t.key, t.ts from unnest(p_keys, p_ts) as t(key, ts)
            where t.ts >= g.since and t.ts between db_now - 2 * p_window and db_now + p_window;
          get diagnostics stored = row_count;
          return;
        exception when unique_violation then
          -- a row already held (a replay) or twice in this batch: the row-by-row path says which
          null;
        end;
      end if;
      with candidates as (
        select t.key, t.ts, t.i::int as i
        from unnest(p_keys, p_ts) with ordinality as t(key, ts, i)
        where t.ts >= g.since and t.ts between db_now - 2 * p_window and db_now + p_window),
      firsts as (
        select distinct on (c.ts, c.key) c.key, c.ts, c.i from candidates c
        where not exists (select 1 from nonce_keys k where k.key = c.key)
        order by c.ts, c.key, c.i),
      claimed as (
        insert into nonce_log as n (key, ts) select f.key, f.ts from firsts f
        on conflict do nothing
        returning n.key, n.ts)
      select
          array_agg(c.i order by c.i) filter (where not exists (
            select 1 from firsts f join claimed w on w.key = f.key and w.ts = f.ts where f.i = c.i)),
          (select count(*)::int from claimed)
        into lost, stored
        from candidates c;
    end $$`.execute(db);

  await sql`create or replace function signet_nonce_legacy_claim() returns trigger
    language plpgsql as $$
    declare
      g nonce_guard := signet_nonce_guard(null);
      v_ts bigint := new.expires_at - coalesce(g.window_seconds, 300);
      v_now bigint := floor(extract(epoch from now()))::bigint;
    begin
      if v_ts < g.since then return null; end if;
      if v_ts < v_now - 2 * coalesce(g.window_seconds, 300) then return null; end if;
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
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`create or replace function signet_nonce_legacy_claim() returns trigger
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
        null;
      end;
      return new;
    end $$`.execute(db);
  await sql`drop function if exists signet_nonce_claim_batch(bytea[], bigint[], bigint)`.execute(db);
  await sql`set local statement_timeout = '120s'`.execute(db);
  await sql`set local lock_timeout = '5s'`.execute(db);
  await sql`alter table nonce_log drop constraint nonce_log_pkey`.execute(db);
  await sql`alter table nonce_log add constraint nonce_log_pkey primary key (key, ts)`.execute(db);
}
