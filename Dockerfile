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
#
# NODE_IMAGE is the official image; where Docker Hub cannot be reached, pass the one
# scripts/make-base-image.sh makes (docs/kubernetes.md, "Building offline with a local base
# image"). Build with BuildKit (`RUN --mount`). There is no `# syntax=` line on purpose: it
# makes BuildKit fetch its frontend from Docker Hub, and the built-in one has all used here.
# `npm run test:image` builds both targets and runs them (test/image/images.test.ts).
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

# Only the manifests, so the npm ci layers below are cached until one of them changes. The
# workspace manifests are picked out of services/ in a stage of their own: BuildKit checks
# what `COPY --from` copies by content, so a source-only change re-runs this cheap stage and
# still finds the npm ci layers in the cache, and a new workspace needs no edit here.
FROM base AS workspace-manifests
COPY services ./services
RUN mkdir -p /manifests \
 && for manifest in services/*/package.json; do \
      mkdir -p "/manifests/$(dirname "${manifest}")" && cp "${manifest}" "/manifests/${manifest}"; \
    done

FROM toolchain AS manifests
COPY package.json package-lock.json .npmrc ./
COPY scripts/install-tools.sh scripts/install-tools.sh
COPY --from=workspace-manifests /manifests/services ./services
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
# What production never reads (a layer of its own, so changing it leaves npm ci cached): type
# declarations, the dependencies' source maps and documents (licences stay), and all of Pico
# but the classless stylesheets the frontend serves (services/frontend/src/plugins/static.ts).
RUN find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o \( -name '*.md' ! -iname 'licen[cs]e*' \) \) -delete \
 && rm -rf node_modules/@types \
 && find node_modules/@picocss/pico -mindepth 1 -maxdepth 1 ! -name package.json ! -name css ! -iname 'licen[cs]e*' \
      -exec rm -rf {} + \
 && find node_modules/@picocss/pico/css -type f ! -name 'pico.classless*.min.css' -delete

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
# Production runtime (default target). Its base is the Node image without what only builds
# use (npm, npx, corepack, yarn, Node's C headers), flattened into one layer (`FROM scratch`
# + `COPY / /`) so the removal really shrinks the image; ENV, ENTRYPOINT and labels of the
# base are not kept (the command is the whole command line, as the chart gives it:
# `node services/<svc>/dist/server.js`).
FROM ${NODE_IMAGE} AS runtime-base
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* /usr/local/include/node \
 && groupadd --gid 10001 signet \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin signet \
 && node --version

FROM scratch AS runtime
COPY --from=runtime-base / /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
# node_modules (with the workspace symlinks) and the package.json files the exports maps live in
COPY --from=prod-deps /app ./
COPY --from=build /out/services ./services
# Files stay root-owned and read-only for uid 10001; nothing is written at run time
# (no PGlite, no temp files), so the root filesystem can be mounted read-only.
# V8's heap, sized for a service (README.md, "Performance"): under the services' allocation
# churn V8 grows its young generation to two 16 MB semi-spaces and keeps them committed
# (--max-semi-space-size=4: two of 4 MB), and with the 4 GB limit it picks on a large host it
# lets old space grow to up to four times what is live before collecting
# (--max-old-space-size=256: up to 1.3 times). Each service then stays under 120 MB RSS under
# load, for 5-25 % more CPU per request (more, smaller collections; the frontend, which
# allocates most per request, pays most). 256 MB is also below the chart's smallest memory
# limit (384Mi): past it V8 collects harder, then stops with "heap out of memory" rather than
# being OOM-killed. This line is the one place the flags live: the chart sets no
# NODE_OPTIONS, and bench/services.ts reads them from here.
ENV NODE_OPTIONS="--enable-source-maps --max-semi-space-size=4 --max-old-space-size=256"
USER 10001:10001
EXPOSE 8000 8001 4444
CMD ["node", "services/data/dist/server.js"]
