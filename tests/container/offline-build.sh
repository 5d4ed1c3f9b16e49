#!/bin/sh
# The one place where the offline test image differs from the real one (Dockerfile, SAGE_BUILD=offline).
#
# Our build machines cannot run `deno compile` (it downloads its runtime from dl.deno.land) nor reach the model hub.
# So instead of the compiled binary this puts, at the same path (/usr/local/bin/sage), a launcher that runs the
# same sources with Deno (from npm) and the pruned node_modules that tests/container/run.ts staged in
# dist/container-offline, and it bundles the tiny test model (tests/support/tiny_model.ts) where the real build
# bundles the hub model: beside the code as models/default, which is where Sage looks for its bundled model.
# PostgreSQL, pgvector, entrypoint.sh, paths and environment are the real image's.
set -eu
vendor=dist/container-offline
for f in deno node_modules model; do
  [ -e "$vendor/$f" ] || { echo "offline build: $vendor/$f is missing (tests/container/run.ts stages it)" >&2; exit 1; }
done
app=/opt/sage/app
mkdir -p "$app/models" /opt/sage/bin /out/usr/local/bin /out/opt
cp "$vendor/deno" /opt/sage/bin/deno
cp -R main.ts deno.json deno.lock lib db "$app/"
cp -R "$vendor/node_modules" "$app/node_modules"
cp -R "$vendor/model" "$app/models/default"
cat >/out/usr/local/bin/sage <<'EOF'
#!/bin/sh
# Offline test image only: runs Sage's sources with Deno where the real image has the compiled binary.
DENO_DIR=/opt/sage/cache DENO_NO_UPDATE_CHECK=1 exec /opt/sage/bin/deno run --quiet --allow-all --cached-only \
  --config /opt/sage/app/deno.json /opt/sage/app/main.ts "$@"
EOF
chmod 755 /out/usr/local/bin/sage
# Transpile once now, as `deno compile` does at build time, so a session does not pay for it at start.
find "$app/main.ts" "$app/lib" "$app/db" -name '*.ts' -exec env DENO_DIR=/opt/sage/cache \
  /opt/sage/bin/deno cache --quiet --config "$app/deno.json" {} +
cp -R /opt/sage /out/opt/sage
