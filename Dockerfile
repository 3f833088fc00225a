# opencx container image: all roles in one process by default (`opencx start`).
# Configuration comes from OPENCX_* environment variables (see docker-compose.yml) or a YAML file
# passed with --config. Build: docker build -t opencx .

# ---- build: compile TypeScript with the dev dependencies
FROM node:20-bookworm-slim AS build
# the native UDP addon (native/udp) is C compiled by node-gyp
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" runs tsc, which needs the sources copied below.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build:native && npm run build
# Assemble the runtime tree: production dependencies, compiled sources, static assets.
RUN mkdir -p /out \
 && cp -r package.json package-lock.json bin /out/ \
 && mkdir -p /out/dist && cp -r dist/src /out/dist/src \
 && if [ -f native/udp/build/Release/opencx_udp.node ]; then mkdir -p /out/native/udp/build/Release && cp native/udp/build/Release/opencx_udp.node /out/native/udp/build/Release/; fi \
 && for d in web seeds migrations certs; do if [ -d "$d" ]; then cp -r "$d" /out/; fi; done \
 && rm -rf /out/certs/out \
 && cd /out && npm ci --omit=dev --ignore-scripts && npm cache clean --force

# ---- runtime
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    OPENCX_DATA_DIR=/data
WORKDIR /app
COPY --from=build /out /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# SIP UDP+TCP, SIP TLS, SIP WS, SIP WSS, HTTP API/metrics
EXPOSE 5060/udp 5060/tcp 5061 5066 7443 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.OPENCX_HTTP__PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "bin/opencx.js", "start"]
