# Build: compile TypeScript to dist/ (tsconfig covers scripts/ and test/ too: they are type-checked
# here, but only dist/src goes into the image).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY test ./test
RUN npx tsc -p tsconfig.json

# Run: production dependencies and compiled code only, as the image's non-root `node` user.
FROM node:20-bookworm-slim
# The container listens on 0.0.0.0, so it starts only with AUTH_ISSUER (and AUTH_JWKS_URL or
# AUTH_JWKS_FILE) set, or with AUTH_DISABLED=true on a closed test network.
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0 PROFILES_DIR=/app/profiles
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY profiles ./profiles
USER node
EXPOSE 8080
# Liveness with node itself (the slim image has no curl): /healthz answers while the process serves.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The container has no embedded database: MONGODB_URI must name a MongoDB server.
CMD ["sh", "-c", "if [ -z \"$MONGODB_URI\" ]; then echo 'MONGODB_URI is required, e.g. mongodb://mongo:27017/fhir?replicaSet=rs0' >&2; exit 1; fi; exec node dist/src/main.js"]
