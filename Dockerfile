# syntax=docker/dockerfile:1

# Production image: Node 24 LTS runs the TypeScript sources directly (type stripping), so there is
# no build output to keep in sync; `npm test` type-checks the same sources with tsc.

# --- dependencies: production only, native argon2 from its prebuilt binary ---
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY config ./config
COPY views ./views
COPY src ./src
# The admin tools (npm run clients / users / keys / rotate-keys) run inside the image too.
COPY scripts ./scripts
# Files stay owned by root and read-only for the process; it runs as the image's unprivileged user.
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Signals reach node directly (exec form), so SIGTERM drains requests and closes the stores.
CMD ["node", "src/main.ts"]
