#!/usr/bin/env bash
# From nothing to a kind cluster ready for `tilt up`:
#   kind cluster "signet" + local registry localhost:5005 (k8s/ctlptl.yaml), ingress-nginx.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

# helm and kubectl from scripts/install-tools.sh (npm ci, linux/amd64) come first, as in
# the Tiltfile: the versions the chart tests use
if [ -d "${root}/.tools/bin" ]; then
  PATH="${root}/.tools/bin:${PATH}"
fi

missing=0
need() {
  local tool="$1" hint="$2"
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "missing: ${tool} (${hint})" >&2
    missing=1
  fi
}
need docker "a running Docker engine: https://docs.docker.com/engine/install/ (or Docker Desktop / OrbStack / colima)"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need ctlptl "https://github.com/tilt-dev/ctlptl#how-do-i-install-it"
need kubectl "https://kubernetes.io/docs/tasks/tools/ (or: bash scripts/install-tools.sh on linux/amd64)"
need helm "https://helm.sh/docs/intro/install/ (or: bash scripts/install-tools.sh on linux/amd64)"
need tilt "https://docs.tilt.dev/install.html"
if [ "${missing}" -ne 0 ]; then
  echo "install the tools above, then run scripts/kind-up.sh again" >&2
  exit 1
fi

if ! docker info >/dev/null 2>&1; then
  echo "docker is installed but no Docker engine answers (is it running? can this user reach its socket?)" >&2
  exit 1
fi

echo "==> kind cluster 'signet' with registry localhost:5005"
ctlptl apply -f k8s/ctlptl.yaml

echo "==> ingress-nginx"
KUBE_CONTEXT=kind-signet bash k8s/ingress-nginx.sh

echo "==> checking signet.localhost resolves to this machine"
if command -v getent >/dev/null 2>&1 && ! getent hosts signet.localhost >/dev/null 2>&1; then
  echo "note: signet.localhost does not resolve here; add '127.0.0.1 signet.localhost' to /etc/hosts" >&2
fi

cat <<'MSG'

Cluster ready (context kind-signet). Next:

  tilt up

then open http://signet.localhost (frontend via the ingress);
port-forwards: frontend :4444, data :8000, registry :8001 (stop `npm start` first).
Namespace: signet (or $SIGNET_NAMESPACE); for kubectl in this shell:
  export PATH="$PWD/.tools/bin:$PATH" NS="${SIGNET_NAMESPACE:-signet}"
Tear down with scripts/kind-down.sh.
MSG
