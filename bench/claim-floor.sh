#!/usr/bin/env bash
# What PostgreSQL's CPU per claim call is made of, on this machine: pgbench, one client, no
# HTTP and no data pod, on a scratch database migrated like production, against the floor
# beneath it — a bare round trip (`select 1`) and a bare 10-row INSERT into nonce_log with no
# function around it. PostgreSQL's CPU per call is read from the postmaster's reaped
# children (cutime + cstime in /proc: pgbench's backend ends with its run).
#   bash bench/claim-floor.sh [seconds per figure = 5] [batch = 10]
# Needs pgbench (Debian's postgresql-<major>, beside initdb) and a local PostgreSQL whose
# postmaster is visible in /proc (the one tests use, DATABASE_URL's server).
set -euo pipefail
seconds=${1:-5}
batch=${2:-10}
here=$(git rev-parse --show-toplevel)
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
server=${server%/*}
db=signet_claim_floor_$$
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
[ -x "$pgbench" ] || { echo "pgbench not found (Debian package postgresql-<major>)" >&2; exit 1; }
postmaster=$(pgrep -o -x postgres) || { echo "no local postmaster in /proc" >&2; exit 1; }
scripts=$(mktemp -d /tmp/signet-claim-floor.XXXXXX)

psql -q "$server/postgres" -c "create database $db"
trap 'psql -q "$server/postgres" -c "drop database if exists $db with (force)"; rm -rf "$scripts"' EXIT
(cd "$here" && DATABASE_URL="$server/$db" npm run -s migrate >/dev/null)
# the partitions a pod's maintenance would create: an hour either side of now, unlogged
psql -q "$server/$db" >/dev/null <<'SQL'
do $$
declare s bigint := (floor(extract(epoch from now()))::bigint / 60) * 60 - 3600;
begin
  for i in 0..120 loop
    execute format('create unlogged table nonce_log_%s partition of nonce_log for values from (%s) to (%s)',
      s + i * 60, s + i * 60, s + (i + 1) * 60);
  end loop;
end $$;
select signet_nonce_guard(300);
SQL

# each script draws `batch` random 16-byte keys; every figure pays the same for building them
keys=""
times=""
{
  for i in $(seq 1 "$batch"); do
    echo "\\set k$i random(1, 9000000000000000000)"
    keys+="int8send(:k$i)||int8send(:k$i),"
    times+="floor(extract(epoch from now()))::bigint,"
  done
} >"$scripts/head.sql"
keys=${keys%,}
times=${times%,}
figure() {
  { cat "$scripts/head.sql"; echo "$2"; } >"$scripts/$1.sql"
}
figure roundtrip "select 1;"
figure arrays "select count(*) from unnest(array[$keys], array[$times]);"
figure insert "insert into nonce_log (key, ts) select * from unnest(array[$keys], array[$times]);"
figure claim "select since, db_now, lost, stored from signet_nonce_claim_batch(array[$keys], array[$times], 300);"

ticks() { read -r -a a <"/proc/$postmaster/stat"; echo "${a[15]} ${a[16]}"; }
hz=$(getconf CLK_TCK)
printf '%-10s %10s %12s %12s %12s %16s\n' figure calls "user µs" "system µs" "total µs" "÷ $batch nonces"
declare -A total
for name in roundtrip arrays insert claim; do
  read -r u0 s0 < <(ticks)
  calls=$("$pgbench" "$server/$db" -n -M prepared -c 1 -T "$seconds" -f "$scripts/$name.sql" 2>&1 |
    awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] }')
  sleep 0.5 # the backend is reaped
  read -r u1 s1 < <(ticks)
  line=$(awk -v n="$name" -v c="$calls" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" -v b="$batch" 'BEGIN {
    us = 1e6 / hz; printf "%-10s %10d %12.0f %12.0f %12.0f %16.1f\n", n, c, u * us / c, s * us / c, (u + s) * us / c, (u + s) * us / c / b }')
  echo "$line"
  total[$name]=$(awk '{ print $5 }' <<<"$line")
done
# pgbench builds the keys in SQL (int8send …), which a pod does not: it sends binary arrays
awk -v r="${total[roundtrip]}" -v a="${total[arrays]}" -v i="${total[insert]}" -v c="${total[claim]}" -v b="$batch" 'BEGIN {
  k = a - r
  printf "net of building the keys (%.0f µs): bare INSERT %.0f µs a call, %.1f a nonce; the claim %.0f µs a call, %.1f a nonce\n", k, i - k, (i - k) / b, c - k, (c - k) / b }'
echo "roundtrip: select 1; arrays: the keys built and unnested, nothing stored; insert: the bare INSERT into nonce_log; claim: signet_nonce_claim_batch (guard, bounds, INSERT)"
