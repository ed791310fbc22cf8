# Build: compile TypeScript to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY test ./test
RUN npx tsc -p tsconfig.json

# Run: production dependencies and compiled code only, as a non-root user.
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
# The container has no embedded database: MONGODB_URI must name a MongoDB server.
CMD ["sh", "-c", "if [ -z \"$MONGODB_URI\" ]; then echo 'MONGODB_URI is required, e.g. mongodb://mongo:27017/fhir' >&2; exit 1; fi; exec node dist/src/main.js"]
