# syntax=docker/dockerfile:1.7
# One image for the three Signet services; the command picks the service:
#   node services/data/dist/server.js        (port 8000)
#   node services/registry/dist/server.js    (port 8001)
#   node services/frontend/dist/server.js    (port 4444)
#   node services/shared/dist/db/cli-migrate.js   (migrations; needs DATABASE_URL)
#
# Targets:
#   runtime (default, last stage) small production image: compiled JS + production deps,
#                                 non-root (uid 10001), works with a read-only root FS
#   dev                           what Tilt builds: all deps + TypeScript sources, run with
#                                 `tsx watch`, so live_update only has to sync src/ files
ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
WORKDIR /app
# The root package.json postinstall fetches helm/kubectl for the chart tests; images need
# neither, so scripts/install-tools.sh exits at once when this is set.
ENV SIGNET_SKIP_TOOLS=1 \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false

# Compilers for native addons. argon2's install script (node-gyp-build) loads its
# prebuilt binary and compiles from source when that fails; on a machine where the
# prebuild would not load, a slim image without python3/make/g++ would fail `npm ci`.
# Only the build stages and the dev image carry them; the runtime image does not.
FROM base AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

# Only the manifests: this layer (and the npm ci below) is cached until they change.
FROM toolchain AS manifests
COPY package.json package-lock.json .npmrc ./
COPY scripts/install-tools.sh scripts/install-tools.sh
COPY services/shared/package.json services/shared/package.json
COPY services/data/package.json services/data/package.json
COPY services/registry/package.json services/registry/package.json
COPY services/frontend/package.json services/frontend/package.json
# the test-support workspace (dev dependencies only): npm ci needs every workspace manifest
COPY test/support/package.json test/support/package.json

# ---------------------------------------------------------------------------------------
# Every dependency (dev included): compiler, tsx.
FROM manifests AS deps
RUN --mount=type=cache,target=/root/.npm npm ci

# ---------------------------------------------------------------------------------------
# tsc -b emits services/*/dist.
FROM deps AS build
COPY tsconfig.base.json tsconfig.json ./
COPY services ./services
RUN npm run build \
 && mkdir -p /out \
 && for dir in services/*/; do \
      mkdir -p "/out/${dir}"; \
      for entry in "${dir}"* ; do \
        case "$(basename "${entry}")" in \
          src | test | node_modules | tsconfig.json) ;; \
          *) cp -a "${entry}" "/out/${dir}" ;; \
        esac; \
      done; \
    done \
 && find /out -name '*.tsbuildinfo' -delete
# /out/services/<svc>/ now holds what runs: package.json, dist/ and any run-time assets
# beside them (the frontend's views/ and public/, the registry's bin/signetctl.js).

# ---------------------------------------------------------------------------------------
# Production dependencies only, installed in their own stage so no dev package leaks in.
FROM manifests AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev \
 && rm -rf scripts

# ---------------------------------------------------------------------------------------
# Development image for Tilt (docker_build target='dev'). Runs TypeScript sources with
# `tsx watch`, which restarts the process when live_update syncs a changed file. Owned by
# the runtime user so live_update's sync and `npm ci` can write into /app (the chart turns
# readOnlyRootFilesystem off for the app containers only when runFromSource=true).
FROM toolchain AS dev
RUN groupadd --gid 10001 signet \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin signet \
 && chown 10001:10001 /app
COPY --from=deps --chown=10001:10001 /app ./
COPY --chown=10001:10001 tsconfig.base.json tsconfig.json ./
COPY --chown=10001:10001 services ./services
ENV HOME=/tmp npm_config_cache=/tmp/.npm
USER 10001:10001
EXPOSE 8000 8001 4444
CMD ["node_modules/.bin/tsx", "watch", "--clear-screen=false", "--conditions=@signet/source", "services/data/src/server.ts"]

# ---------------------------------------------------------------------------------------
# Production runtime (default target).
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
RUN groupadd --gid 10001 signet \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin signet
# node_modules (with the workspace symlinks) and the package.json files the exports maps live in
COPY --from=prod-deps /app ./
COPY --from=build /out/services ./services
# Files stay root-owned and read-only for uid 10001; nothing is written at run time
# (no PGlite, no temp files), so the root filesystem can be mounted read-only.
ENV NODE_OPTIONS=--enable-source-maps
USER 10001:10001
EXPOSE 8000 8001 4444
CMD ["node", "services/data/dist/server.js"]
