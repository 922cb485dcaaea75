# syntax=docker/dockerfile:1

# One image, two modes (IDP_CONTAINER, src/config/load-config.ts and listen.ts):
# - with MONGODB_URI and REDIS_URL it runs production (NODE_ENV defaults to production, so every key
#   and an https issuer are required);
# - with neither, `docker run -p 127.0.0.1:3000:3000 IMAGE` runs the embedded mode, a test provider:
#   in-process stores, the demo app and token debugger, the seed file of IDP_SEED_FILE. It listens on
#   every interface of the container (loopback would be unreachable), so its demo user gets a
#   random password, printed at start.
# Node 24 LTS runs the TypeScript sources directly (type stripping), so there is no build output to
# keep in sync; `npm test` type-checks the same sources with tsc.

# --- dependencies: production only, native argon2 from its prebuilt binary ---
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---
FROM node:24-bookworm-slim AS runtime
ENV IDP_CONTAINER=true \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY config ./config
COPY views ./views
COPY src ./src
# The admin tools (npm run clients / users / keys / rotate-keys) run inside the image too.
COPY scripts ./scripts
# The README's seed file, so `-e IDP_SEED_FILE=examples/seed.yaml` gives a test provider at once.
COPY examples ./examples
# IDP_DATA_DIR for the embedded mode (a volume here keeps its keys across restarts), writable by the
# unprivileged user; a named volume mounted on it takes this ownership.
RUN mkdir -p /var/lib/idp && chown node:node /var/lib/idp && chmod 700 /var/lib/idp
# Files stay owned by root and read-only for the process; it runs as the image's unprivileged user.
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Signals reach node directly (exec form), so SIGTERM drains requests and closes the stores.
CMD ["node", "src/main.ts"]
