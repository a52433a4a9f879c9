# Sändebud gateway image (issue 3 §10): multi-stage, node:20-slim, non-root, production dependencies only.
# Runs the TypeScript sources through tsx (a runtime dependency), so there is no separate build output.
FROM node:20-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock file was made where foreign-platform optional binaries (@swc/core-darwin-*, …)
# could not be fetched, and `npm ci` refuses a lock without them. Versions still come from package-lock.json.
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SIMULATORS=false
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY contracts ./contracts
COPY scripts ./scripts
# certs-dev/ is deliberately not copied: production mounts real certificates and keys (*_FILE variables).
RUN mkdir -p /app/var && chown -R node:node /app/var
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
