#!/bin/sh
# Runs Sage from this checkout with Deno: `./sage serve`, `./sage status`, … (see `./sage --help`).
# Works from any working directory (Claude Code starts MCP servers in the user's project), so the config is
# passed explicitly. The compiled binary and the container image do not use this script.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
if [ -n "$SAGE_DENO" ]; then deno=$SAGE_DENO
elif [ -x "$here/.tools/bin/deno" ]; then deno=$here/.tools/bin/deno
else deno=$(command -v deno) || { echo "sage: Deno not found; run $here/scripts/setup first" >&2; exit 1; }
fi
DENO_NO_UPDATE_CHECK=1 exec "$deno" run --quiet --allow-all --config "$here/deno.json" "$here/main.ts" "$@"
