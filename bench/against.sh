#!/usr/bin/env bash
# This tree against an earlier commit on the same machine, back to back: bench/http.ts run
# alternately in a git worktree of <commit> and here, <runs> times each, then each figure as
# a ratio (this tree ÷ that commit). Both sides run this tree's bench/http.ts and
# bench/support.ts (the same accounting: each route's own database backends, the claims read
# off the pod's metrics), against their own server code, migrations and node_modules.
#   bash bench/against.sh <commit> [runs=2]
# <commit>: 0168804 (the tree issue 13 was filed against) or later — a tree whose
# bench/http-server.ts and @signet/test-support take what this bench/http.ts passes them.
# The worktree (with its npm ci) is kept in ${AGAINST_DIR:-/tmp/signet-against-<commit>} for
# the next run (`git worktree remove <dir>` drops it). Run nothing else meanwhile: the
# figures are CPU time per request.
set -euo pipefail
commit=$(git rev-parse --short "${1:?usage: bench/against.sh <commit> [runs]}")
runs=${2:-2}
here=$(git rev-parse --show-toplevel)
there=${AGAINST_DIR:-/tmp/signet-against-$commit}
out=$(mktemp -d /tmp/signet-against-out.XXXXXX)

if [ ! -d "$there" ]; then
  git -C "$here" worktree add --detach "$there" "$commit" >/dev/null
  (cd "$there" && npm ci --no-audit --no-fund >"$out/npm-ci.log" 2>&1) || {
    echo "npm ci in $there failed: $out/npm-ci.log" >&2
    exit 1
  }
fi
cp "$here/bench/http.ts" "$here/bench/support.ts" "$there/bench/"

for i in $(seq 1 "$runs"); do
  for side in there here; do
    dir=$here
    [ "$side" = there ] && dir=$there
    echo "$(date +%T) run $i: ${side/there/$commit} (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    (cd "$dir" && node --conditions=@signet/source --import tsx bench/http.ts >"$out/$side-$i.json")
  done
done

(cd "$here" && node --import tsx bench/against-summary.ts "$out" "$commit" "$runs")
