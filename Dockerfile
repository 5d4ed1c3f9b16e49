# Sage in one image: PostgreSQL 17 + pgvector (Debian's packages) + the `sage` executable (with its embedding model
# inside), talking MCP over STDIO. No port, no network needed at run time.
#
#   scripts/release build         the published image, with its labels (what the release workflow runs)
#   docker build -t sage .        a local build (or podman build; run_sage_single.sh builds when it cannot pull)
#   docker run --rm -i sage       a throwaway MCP server: memories vanish with the container
#   ./run_sage_single.sh          the real thing: a named volume and one long-lived container (see the README)
#
# Build arguments (the defaults make the published image):
#   SAGE_MODEL_ID      embedding model downloaded from the Hugging Face hub and embedded in the binary
#   SAGE_MODEL_DTYPES  ONNX variants to embed: q8 (default, ~120 MB for the default model), fp32, or "q8 fp32"
#   DENO_VERSION       the Deno that compiles sage
#   SAGE_VERSION, SAGE_SOURCE, SAGE_LICENSES   the OCI labels (scripts/release and run_sage_single.sh pass them
#                      from lib/version.ts and scripts/image.env); the build fails if SAGE_VERSION is not sage's own
# Only the offline container test (tests/container/) changes the others: it has no registry, no model hub and no
# dl.deno.land, so it passes a locally made Debian trixie base and SAGE_BUILD=offline, which swaps the compile step for
# tests/container/offline-build.sh. Everything else, the PostgreSQL packages and entrypoint.sh included, is shared.
ARG BUILD_BASE=docker.io/library/debian:trixie-slim
ARG RUNTIME_BASE=docker.io/library/debian:trixie-slim

# ---- build: the model, the npm packages, `deno compile` ------------------------------------------------------
FROM ${BUILD_BASE} AS build
ARG SAGE_BUILD=compile
ARG DENO_VERSION=2.9.6
ARG SAGE_MODEL_ID=Xenova/multilingual-e5-small
ARG SAGE_MODEL_DTYPES=q8
WORKDIR /src
# .dockerignore admits only what the build reads (a checkout's node_modules, .tools and models stay out).
COPY . .
# A compiled binary unpacks a native add-on alone into a temporary folder, away from the shared library it links to;
# onnxruntime's library goes on the system loader path instead (/usr/local/lib, ldconfig below), so the add-on loads
# anyway, and is left out of the binary. sharp (images) is replaced by a stub (scripts/prune-node-modules).
# `sage selftest` then loads the bundled model and embeds with it: a broken add-on or model fails the build here.
# Modules Sage loads by a built name (lib/modules.ts; the worker) are named to `deno compile` one by one.
RUN set -eu; \
    if [ "$SAGE_BUILD" = offline ]; then \
      sh tests/container/offline-build.sh; \
    else \
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
      lib=$(ls node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v*/linux/*/libonnxruntime.so.*); \
      cp -L $lib /out/usr/local/lib/; \
      modules=$(for f in lib/cli/*.ts lib/app.ts lib/hooks/handlers.ts lib/hooks/socket.ts lib/embed/worker.ts; do \
        printf -- '--include %s ' "$f"; done); \
      deno compile --allow-all --frozen --no-check $modules --include db --include models/default --exclude $lib \
        --output /out/usr/local/bin/sage main.ts; \
    fi; \
    /out/usr/local/bin/sage --version; \
    LD_LIBRARY_PATH=/out/usr/local/lib /out/usr/local/bin/sage selftest

# ---- runtime: PostgreSQL + pgvector + sage, nothing else -----------------------------------------------------
FROM ${RUNTIME_BASE}
ARG PG_PACKAGES=postgresql-17-pgvector
# Sage initialises its own cluster in the volume, so Debian's packaging must not create a default one. What the image
# never uses is kept out of it as dpkg unpacks (path-exclude; the packages stay consistently installed): LLVM and its
# solver (~150 MB; Sage runs PostgreSQL with jit=off, and without the library PostgreSQL simply has no JIT), the JIT's
# bitcode, the locale sources (initdb runs with --no-locale), documentation, manual pages and translations. apt's
# lists and downloaded packages go too. So does perl (~50 MB; perl-base stays): only postgresql-common's wrapper
# scripts use it, and entrypoint.sh runs PostgreSQL's own binaries. dpkg then lists postgresql-common's dependency on
# it as unmet: an image built FROM this one that installs packages runs `apt-get install -f` first.
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/lib/*/libLLVM*' 'path-exclude /usr/lib/*/libz3.so*' \
      'path-exclude /usr/lib/postgresql/*/lib/bitcode/*' 'path-exclude /usr/lib/postgresql/*/lib/llvmjit*' \
      'path-exclude /usr/share/i18n/charmaps/*' 'path-exclude /usr/share/i18n/locales/*' \
      >/etc/dpkg/dpkg.cfg.d/sage-slim; \
    mkdir -p /etc/postgresql-common; \
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold $PG_PACKAGES >/dev/null; \
    dpkg --purge --force-depends perl $(dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 'libperl5*' 'perl-modules-5*' \
      | awk '$1 == "ii" { print $2 }') >/dev/null; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
COPY --from=build /out/ /
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
ARG SAGE_VERSION=
ARG SAGE_SOURCE=
ARG SAGE_LICENSES=
# The version label is what run_sage_single.sh checks after a pull, so it must be the binary's own version.
RUN set -eu; \
    chmod 755 /usr/local/bin/entrypoint.sh; ldconfig; mkdir -p -m 755 /var/lib/sage; \
    have=$(sage --version); \
    [ -z "$SAGE_VERSION" ] || [ "$have" = "sage $SAGE_VERSION" ] || \
      { echo "SAGE_VERSION=$SAGE_VERSION, but the binary says: $have" >&2; exit 1; }; \
    sage selftest
LABEL org.opencontainers.image.title="sage" \
      org.opencontainers.image.description="Sage: long-term memory for Claude Code (MCP over STDIO), with PostgreSQL, pgvector and a local embedding model" \
      org.opencontainers.image.version="${SAGE_VERSION}" \
      org.opencontainers.image.source="${SAGE_SOURCE}" \
      org.opencontainers.image.licenses="${SAGE_LICENSES}"
# DATABASE_URL points at the socket entrypoint.sh gives PostgreSQL; the model is the one bundled with sage.
ENV SAGE_HOME=/var/lib/sage \
    DATABASE_URL=postgresql://sage@/sage?host=/run/sage
VOLUME /var/lib/sage
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["serve"]
