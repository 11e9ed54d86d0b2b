#!/usr/bin/env bash
# Measures `npm start`'s memory (README.md, "npm start's memory"): a first start in a fresh
# SIGNET_HOME on spare ports, five rounds of requests to the three services once it is up,
# then VmRSS (resident now) and VmHWM (peak) of its node process from /proc/<pid>/status.
# Linux only. Usage: bash scripts/start-memory.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

home="$(mktemp -d)"
export SIGNET_HOME="${home}/signet" SIGNET_FRONTEND_PORT=24444 SIGNET_DATA_PORT=28000 SIGNET_REGISTRY_PORT=28001
unset DATABASE_URL NATS_URL
setsid npm start >"${home}/out.log" 2>&1 &
npm_pid=$!
cleanup() {
  kill -INT -- "-${npm_pid}" 2>/dev/null || true
  sleep 2
  kill -KILL -- "-${npm_pid}" 2>/dev/null || true
  rm -rf "${home}"
}
trap cleanup EXIT

for _ in $(seq 1 600); do
  grep -q "Press Ctrl-C\|npm start failed" "${home}/out.log" && break
  sleep 0.5
done
grep -q "Press Ctrl-C" "${home}/out.log" || { cat "${home}/out.log" >&2; exit 1; }

# npm runs `node scripts/start.mjs` as its child (through sh -c on some npm versions)
node_pid="$(pgrep -f -n "scripts/start.mjs" -s "${npm_pid}")"
token="$(awk '/admin token/ {print $3}' "${home}/out.log")"
for _ in 1 2 3 4 5; do
  curl -s -o /dev/null "http://127.0.0.1:${SIGNET_FRONTEND_PORT}/login"
  curl -s -o /dev/null "http://127.0.0.1:${SIGNET_DATA_PORT}/readyz"
  curl -s -o /dev/null -H "authorization: Bearer ${token}" "http://127.0.0.1:${SIGNET_REGISTRY_PORT}/consumers"
done
sleep 2
echo "npm start (pid ${node_pid}), after seeding and 15 requests:"
grep -E "VmRSS|VmHWM" "/proc/${node_pid}/status"
