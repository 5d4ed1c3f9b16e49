# Sage in one image: PostgreSQL 16 + pgvector + the `sage` executable (with its embedding model inside), talking MCP
# over STDIO only. No port, no network needed at run time.
#
#   docker build -t sage .        (or podman build; run_sage_single.sh does this when the image is missing)
#   docker run --rm -i sage       a throwaway MCP server: memories vanish with the container
#   ./run_sage_single.sh          the real thing: a named volume and one long-lived container (see the README)
#
# Build arguments (the defaults make the published image):
#   SAGE_MODEL_ID      embedding model downloaded from the Hugging Face hub and embedded in the binary
#   SAGE_MODEL_DTYPES  ONNX variants to embed: q8 (default, ~120 MB for the default model), fp32, or "q8 fp32"
#   DENO_VERSION       the Deno that compiles sage
# Only the offline container test (tests/container/) changes the others: it has no registry, no model hub and no
# dl.deno.land, so it passes locally made base images, its PostgreSQL packages, and SAGE_BUILD=offline, which swaps
# the compile step for tests/container/offline-build.sh. Everything else, entrypoint.sh included, is shared.
ARG BUILD_BASE=debian:bookworm-slim
ARG RUNTIME_BASE=postgres:16

# ---- build: the model, the npm packages, `deno compile` ------------------------------------------------------
FROM ${BUILD_BASE} AS build
ARG SAGE_BUILD=compile
ARG DENO_VERSION=2.9.6
ARG SAGE_MODEL_ID=Xenova/multilingual-e5-small
ARG SAGE_MODEL_DTYPES=q8
WORKDIR /src
# .dockerignore admits only what the build reads (a checkout's node_modules, .tools and models stay out).
COPY . .
# A compiled binary unpacks a native add-on (onnxruntime, sharp) alone into a temporary folder, away from the shared
# library it links to; those libraries go on the system loader path instead (ldconfig below), so the add-ons load
# anyway, and are left out of the binary.
RUN set -eu; \
    if [ "$SAGE_BUILD" = offline ]; then exec sh tests/container/offline-build.sh; fi; \
    export DEBIAN_FRONTEND=noninteractive DENO_NO_UPDATE_CHECK=1 ONNXRUNTIME_NODE_INSTALL=skip; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends ca-certificates curl unzip >/dev/null; \
    curl -fsSL --retry 3 -o /tmp/deno.zip \
      "https://dl.deno.land/release/v${DENO_VERSION}/deno-$(uname -m)-unknown-linux-gnu.zip"; \
    unzip -q /tmp/deno.zip -d /usr/local/bin; \
    deno install --frozen --quiet; \
    scripts/prune-node-modules node_modules; \
    SAGE_MODEL_ID="$SAGE_MODEL_ID" SAGE_MODEL_DTYPES="$SAGE_MODEL_DTYPES" scripts/fetch-model models/default; \
    mkdir -p /out/usr/local/bin /out/usr/local/lib; \
    libs=$(ls node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v*/linux/*/libonnxruntime.so.* \
      node_modules/.deno/@img+sharp-libvips-linux-*/node_modules/@img/sharp-libvips-linux-*/lib/libvips-cpp.so.*); \
    cp -L $libs /out/usr/local/lib/; \
    deno compile --allow-all --frozen \
      --include lib/embed/worker.ts --include db --include models/default \
      $(for f in $libs; do printf -- '--exclude %s ' "$f"; done) \
      --output /out/usr/local/bin/sage main.ts; \
    /out/usr/local/bin/sage --version

# ---- runtime: PostgreSQL + pgvector + sage, nothing else -----------------------------------------------------
FROM ${RUNTIME_BASE}
# postgres:16 already has PostgreSQL and PGDG's apt repository; the offline test's Debian base installs both.
# Sage initialises its own cluster in the volume; Debian's packaging must not create a default one.
ARG PG_PACKAGES=postgresql-16-pgvector
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    mkdir -p /etc/postgresql-common; \
    [ -f /etc/postgresql-common/createcluster.conf ] || \
      echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold $PG_PACKAGES >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /out/ /
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
RUN chmod 755 /usr/local/bin/entrypoint.sh && ldconfig && mkdir -p -m 755 /var/lib/sage && sage --version >/dev/null
# DATABASE_URL points at the socket entrypoint.sh gives PostgreSQL; the model is the one bundled with sage.
ENV SAGE_HOME=/var/lib/sage \
    DATABASE_URL=postgresql://sage@/sage?host=/run/sage
VOLUME /var/lib/sage
# postgres:16 stops with SIGINT; entrypoint.sh handles both, but the image behaves the same on any base with TERM.
# (Its EXPOSE 5432 cannot be undone here: it is metadata only. Nothing listens on TCP, and nothing is published.)
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["serve"]
