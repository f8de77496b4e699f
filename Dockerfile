# Dockerfile builds the geecache pod image: one Node process serving the peer
# port (8001) and the HTTP port (9999). CI builds it as it is with buildah
# (scripts/image/build.sh, against a local stand-in for the base image) and runs
# the image on a real cluster (npm run test:k8s).
#
# Base image: Node 24 LTS on Debian trixie, slim variant, pinned to a full
# version tag so rebuilds are reproducible; bump it deliberately. Build and
# runtime use the same base so npm resolves the same platform packages in both.
ARG NODE_IMAGE=node:24.20.0-trixie-slim

# ---- build: full dependency tree, TypeScript compiled to dist/src ----------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- runtime: production dependencies and compiled JavaScript only ---------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# glibc: each 128 KiB+ block mapped on its own, two arenas, so freed memory leaves RSS (src/memory/node-flags.ts).
ENV MALLOC_MMAP_THRESHOLD_=131072
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
# Owned by root and not writable by the runtime user: the pod also mounts its
# root filesystem read-only.
COPY --from=build /app/dist/src ./dist/src
# uid/gid 1000 in the official Node images; the Kubernetes manifests set
# runAsUser 1000 to match.
USER node
# 8001: peer protocol (/_geecache/...), 9999: /api, /metrics, /healthz, /readyz.
EXPOSE 8001 9999
# Exec form: node is PID 1 and receives SIGTERM itself (it drains, then exits 0).
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz instead.
CMD ["node", "--no-memory-reducer", "--expose-gc", "--min-semi-space-size=16", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "dist/src/main.js"]
