#!/usr/bin/env bash
# Removes the kind cluster "signet" and its local registry (k8s/ctlptl.yaml).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

if ! command -v ctlptl >/dev/null 2>&1; then
  echo "missing: ctlptl (https://github.com/tilt-dev/ctlptl#how-do-i-install-it)" >&2
  exit 1
fi

ctlptl delete -f k8s/ctlptl.yaml
echo "kind cluster 'signet' and registry 'ctlptl-registry' removed"
