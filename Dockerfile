# cloudreve-sync: two-way sync between a folder and a Cloudreve account, as a container.
#
#   docker build -t cloudreve-sync .
#   docker run -d --name cloudreve-sync -e PUID=1000 -e PGID=1000 \
#     -v /volume1/sync:/data -v /volume1/docker/cloudreve-sync:/config:ro \
#     -v cloudreve-sync-state:/state cloudreve-sync
#
# See docker-compose.example.yml. Build arguments:
#   npm_config_build_from_source=true  compile better-sqlite3 instead of using its prebuilt binary
#   VERSION, REVISION, CREATED         values for the OCI labels

# ---- build: bundles the TypeScript program and compiles the native SQLite addon and folder reader ----
FROM node:22-bookworm-slim AS build

# node-gyp's toolchain, used when no prebuilt better-sqlite3 binary fits (or when asked to), and
# the C compiler that builds the native folder reader.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make gcc g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Set to "true" to make better-sqlite3's installer compile instead of downloading a binary.
ARG npm_config_build_from_source

COPY package.json package-lock.json ./
# require('better-sqlite3') alone does not load the addon; opening a database does. Checking
# here fails the build if an npm that honours package.json "allowScripts" (or ignore-scripts)
# skipped the install script, instead of shipping an image that fails at its first sync.
RUN npm ci --no-audit --no-fund \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY src ./src
# Prune keeps the addon already built above (a second `npm ci --omit=dev` would build it again).
# Of better-sqlite3's build tree only the addon is loaded; the objects and the SQLite sources
# are ~25 MB the image does not need.
RUN npm run build \
 && test -f dist/native/raw-folder.node \
 && npm prune --omit=dev --no-audit --no-fund \
 && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node /tmp/ \
 && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
 && mkdir -p node_modules/better-sqlite3/build/Release \
 && mv /tmp/better_sqlite3.node node_modules/better-sqlite3/build/Release/ \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()" \
 && node dist/cli/main.js --version

COPY docker/entrypoint.sh ./docker/entrypoint.sh
# Set here rather than with COPY --chmod, which the legacy (non-BuildKit) builder on some NAS lacks.
RUN chmod 0755 docker/entrypoint.sh

# ---- runtime ----
FROM node:22-bookworm-slim AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="cloudreve-sync" \
      org.opencontainers.image.description="Two-way sync between a local folder and a Cloudreve account" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:22-bookworm-slim"

# tini as PID 1 forwards SIGTERM/SIGHUP to the CLI and reaps zombies, whether or not the user
# remembers `--init`. npm and corepack are not needed to run and only add CVEs to scan reports.
# /data and /state start out owned by 1000:1000 so that a fresh named volume, which copies
# them, is writable with the default PUID/PGID and under `docker run --user 1000:1000`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && install -d -m 0755 /config \
 && install -d -m 0755 -o 1000 -g 1000 /data \
 && install -d -m 0700 -o 1000 -g 1000 /state

WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Named like the CLI so that `docker exec <container> cloudreve-sync status` also runs as
# PUID:PGID instead of root (root-owned files in /state would lock the daemon out).
COPY --from=build /app/docker/entrypoint.sh /usr/local/bin/cloudreve-sync

ENV NODE_ENV=production \
    CLOUDREVE_SYNC_CONFIG=/config/config.yaml \
    CLOUDREVE_SYNC_STATE_DIR=/state

VOLUME ["/data", "/config", "/state"]

# Probes the address the daemon's status server listens on: CLOUDREVE_SYNC_STATUS_LISTEN, else
# daemon.status.listen in the config, else 127.0.0.1:9123; a wildcard address is probed on
# loopback, and "off" leaves nothing to probe. Exit 0 healthy, 1 unhealthy, with the daemon's
# reasons in `docker inspect`. It runs in WORKDIR /app, where require("yaml") resolves.
HEALTHCHECK --interval=30s --timeout=10s --start-period=2m --retries=3 \
  CMD node -e ' \
    let listen = process.env.CLOUDREVE_SYNC_STATUS_LISTEN; \
    if (!listen) { \
      try { listen = require("yaml").parse(require("fs").readFileSync(process.env.CLOUDREVE_SYNC_CONFIG, "utf8"))?.daemon?.status?.listen; } catch {} \
    } \
    listen = String(listen || "127.0.0.1:9123"); \
    if (listen === "off") { console.log("status server is off: nothing to check"); process.exit(0); } \
    const colon = listen.lastIndexOf(":"); \
    let host = listen.slice(0, Math.max(colon, 0)); \
    const port = listen.slice(colon + 1); \
    if (host.startsWith("[")) host = host.slice(1, -1); \
    if (["", "0.0.0.0", "::"].includes(host)) host = "127.0.0.1"; \
    require("http").get({ host, port, path: "/healthz", timeout: 5000 }, (res) => { \
      let body = ""; \
      res.setEncoding("utf8"); \
      res.on("data", (chunk) => { body += chunk; }); \
      res.on("end", () => { console.log(res.statusCode + " " + body.slice(0, 1000)); process.exit(res.statusCode === 200 ? 0 : 1); }); \
    }).on("timeout", function () { this.destroy(new Error("no answer within 5 s")); }) \
      .on("error", (error) => { console.log("status server " + listen + ": " + error.message); process.exit(1); }); \
  '

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/cloudreve-sync"]
CMD ["sync"]
