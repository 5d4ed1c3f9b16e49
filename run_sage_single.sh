#!/bin/sh
# run_sage_single.sh: Sage as an MCP server on STDIO, from one container image (PostgreSQL + pgvector + sage).
#
#   claude mcp add sage -- /path/to/run_sage_single.sh      register with Claude Code (the default command: serve)
#   run_sage_single.sh status | export > backup.jsonl | import - < backup.jsonl | hook Stop | --help | …
#
# One long-lived container per data volume keeps PostgreSQL running; every call joins it with `exec -i`, so any number
# of Claude Code windows share one database server, and there is never a second PostgreSQL on the same data. The
# container has no network and publishes no port. stdout carries only what sage writes: build progress and container
# CLI messages go to stderr. Settings are environment variables (README, "Container"):
#   SAGE_CONTAINER_CLI  docker or podman (default: whichever is installed, docker first)
#   SAGE_IMAGE          image to run (default $SAGE_REGISTRY/sage:<this checkout's version>, see `published=` below);
#                       pulled when missing, built from this folder when the pull fails; a name without a registry is
#                       never pulled
#   SAGE_REGISTRY       where published images come from (default: scripts/image.env's, ghcr.io/sage-memory)
#   SAGE_BUILD=1        build the image from this folder instead of pulling it
#   SAGE_VOLUME         named volume holding the data (default sage-data); one container per volume: sage-<volume>
#   SAGE_MODEL_ID, SAGE_MODEL_DTYPES   embedding model baked in when the image is built
#   SAGE_BUILD_ARGS     extra options for that build (split on spaces)
#   SAGE_PROJECT        the project memories belong to (default: the git root of the current directory)
#   other SAGE_* (SAGE_LOG_LEVEL, …), CLAUDE_PROJECT_DIR and CLAUDE_CONFIG_DIR are passed on to sage; SAGE_PASS_ENV
#   names more
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
say() { printf 'run_sage_single: %s\n' "$*" >&2; }
die() {
  say "$1"
  exit "${2:-1}"
}

# ---- settings ---------------------------------------------------------------------------------------------------
cli=${SAGE_CONTAINER_CLI:-}
if [ -z "$cli" ]; then
  for c in docker podman; do
    if command -v "$c" >/dev/null 2>&1; then
      cli=$c
      break
    fi
  done
  [ -n "$cli" ] || die "neither docker nor podman is installed: install Docker (https://docs.docker.com/get-docker/) or Podman (https://podman.io/), or set SAGE_CONTAINER_CLI"
fi
command -v "$cli" >/dev/null 2>&1 || die "SAGE_CONTAINER_CLI=$cli: no such command" 2
# The published image this script runs unless SAGE_IMAGE names another: <registry>/sage:<version>. The registry is
# scripts/image.env's SAGE_REGISTRY and the version lib/version.ts's; this line repeats them so that the script also
# works alone (the Claude Code plugin runs a copy with no checkout beside it), and `deno task test` fails when they
# disagree.
published=ghcr.io/sage-memory/sage:0.1.0
version=${published##*:}
image=${SAGE_IMAGE:-${SAGE_REGISTRY:-${published%/sage:*}}/sage:$version}
case ${SAGE_BUILD:-0} in 0 | 1) ;; *) die "SAGE_BUILD=$SAGE_BUILD: use 1 to build the image from this folder instead of pulling it" 2 ;; esac
volume=${SAGE_VOLUME:-sage-data}
case $volume in
  [A-Za-z0-9]*) case $volume in *[!A-Za-z0-9_.-]*) die "SAGE_VOLUME=\"$volume\" is not a volume name (letters, digits, _ . -)" 2 ;; esac ;;
  *) die "SAGE_VOLUME=\"$volume\" is not a volume name (letters, digits, _ . -, starting with a letter or digit)" 2 ;;
esac
container=sage-$volume
errors=$(mktemp "${TMPDIR:-/tmp}/sage-run.XXXXXX")
trap 'rm -f "$errors"' EXIT

# The project is the git root of the current directory (a folder or file named .git), else the directory itself:
# what sage itself would work out on the host, which it cannot see from inside the container.
if [ -z "${SAGE_PROJECT:-}" ]; then
  SAGE_PROJECT=$(pwd -P)
  dir=$SAGE_PROJECT
  while [ -n "$dir" ]; do
    if [ -e "$dir/.git" ]; then
      SAGE_PROJECT=$dir
      break
    fi
    dir=${dir%/*}
  done
fi
export SAGE_PROJECT

# Sage's settings pass through (every SAGE_* variable, plus CLAUDE_PROJECT_DIR and the names in SAGE_PASS_ENV), except
# this script's own and those the image fixes: the data directory, database, model and log file are container paths.
# Claude Code's folder, by the host path it is mounted at (create_container): sage finds the transcripts there
# (`backfill`), whatever HOME is inside the container.
[ -n "${CLAUDE_CONFIG_DIR:-}" ] || [ -z "${HOME:-}" ] || export CLAUDE_CONFIG_DIR="$HOME/.claude"
pass=""
names=$(env | sed -n 's/^\(SAGE_[A-Za-z0-9_]*\)=.*/\1/p')
for name in $names CLAUDE_PROJECT_DIR CLAUDE_CONFIG_DIR ${SAGE_PASS_ENV:-}; do
  case $name in
    [A-Za-z_]*) case $name in *[!A-Za-z0-9_]*) die "SAGE_PASS_ENV: \"$name\" is not a variable name" 2 ;; esac ;;
    *) die "SAGE_PASS_ENV: \"$name\" is not a variable name" 2 ;;
  esac
  case $name in
    SAGE_CONTAINER_CLI | SAGE_IMAGE | SAGE_REGISTRY | SAGE_BUILD | SAGE_VOLUME | SAGE_BUILD_ARGS | SAGE_MODEL_ID) ;;
    SAGE_MODEL_DTYPES | SAGE_PASS_ENV) ;;
    SAGE_HOME | SAGE_EMBED_MODEL | SAGE_LOG_FILE | SAGE_PG_BIN | SAGE_PG_USER | SAGE_DENO | DATABASE_URL) ;;
    *) if eval "[ -n \"\${$name+set}\" ]"; then pass="$pass -e $name"; fi ;;
  esac
done

# ---- hooks: the fast path -----------------------------------------------------------------------------------------
# Claude Code waits for UserPromptSubmit on every prompt. When the container runs (nearly always), a hook joins it at
# once: one engine call, no image or container checks first. Its input is read here, so that when the container is
# not running (the engine refuses the exec) the usual path below starts it and the hook still gets its input.
buffered=0
if [ "${1:-}" = hook ]; then
  input=$(cat; printf x)
  input=${input%x}
  buffered=1
  set +e
  # shellcheck disable=SC2086
  printf '%s' "$input" | "$cli" exec -i $pass "$container" /usr/local/bin/entrypoint.sh --join "$@" 2>"$errors"
  status=$?
  set -e
  # sage hook always exits 0 and prints nothing on stderr: anything else came from the engine (no such container,
  # not running), and the hook runs again below, once the container is up.
  [ "$status" != 0 ] || exit 0
fi

# ---- the image ----------------------------------------------------------------------------------------------------
# $1 says why it builds. The labels are the published image's, so a local build passes the same version check.
build_image() {
  why=$1
  [ -f "$here/Dockerfile" ] || die "cannot build the image $image ($why): $here is not a Sage checkout"
  setting() { sed -n "s/^$1=//p" "$here/scripts/image.env" 2>/dev/null || :; }
  set -- build -t "$image" --build-arg "SAGE_VERSION=$version" --build-arg "SAGE_SOURCE=$(setting SAGE_SOURCE)" \
    --build-arg "SAGE_LICENSES=$(setting SAGE_LICENSES)"
  [ -z "${SAGE_MODEL_ID:-}" ] || set -- "$@" --build-arg "SAGE_MODEL_ID=$SAGE_MODEL_ID"
  [ -z "${SAGE_MODEL_DTYPES:-}" ] || set -- "$@" --build-arg "SAGE_MODEL_DTYPES=$SAGE_MODEL_DTYPES"
  say "building the image $image from $here ($why; this takes a few minutes)"
  # shellcheck disable=SC2086 # SAGE_BUILD_ARGS is a list of options
  "$cli" "$@" ${SAGE_BUILD_ARGS:-} "$here" >&2 || die "building the image $image failed (output above)"
}
# Only a name whose first part is a registry host (has a dot or a port; not bare "localhost") is ever pulled:
# sage:latest and localhost/sage are local images.
pullable() {
  case $image in
    localhost/*) return 1 ;;
    */*) case ${image%%/*} in *.* | *:*) return 0 ;; esac ;;
  esac
  return 1
}
# The version an image must carry: its tag, when the tag is a version (ghcr.io/…/sage:0.1.0); none for :latest.
want_version=${image##*/}
case $want_version in *@*) want_version='' ;; *:[0-9]*.[0-9]*) want_version=${want_version##*:} ;; *) want_version='' ;; esac
image_version() {
  v=$("$cli" image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image" 2>/dev/null) || v=''
  [ "$v" != '<no value>' ] || v=''
  echo "${v:-unknown}"
}
usable() { "$cli" image inspect "$image" >/dev/null 2>&1 && { [ -z "$want_version" ] || [ "$(image_version)" = "$want_version" ]; }; }

if ! usable; then
  if "$cli" image inspect "$image" >/dev/null 2>&1; then
    say "the local image $image is version $(image_version), not $want_version: replacing it"
  fi
  if [ "${SAGE_BUILD:-0}" = 1 ]; then
    build_image "SAGE_BUILD=1"
  elif ! pullable; then
    build_image "a local image name, never pulled"
  else
    say "pulling $image"
    if "$cli" pull "$image" >&2; then
      if usable; then
        say "pulled $image"
      else
        build_image "the registry's image is version $(image_version), not $want_version"
      fi
    else
      say "could not pull $image (messages above); building it from this checkout instead"
      build_image "the pull failed"
    fi
  fi
fi
image_id=$("$cli" image inspect -f '{{.Id}}' "$image")

# ---- hooks -----------------------------------------------------------------------------------------------------------
# Hooks live in the host's Claude Code settings, which the long-lived container sees read-only. `hooks …` runs in a
# one-off container (no network, no database) with just that settings folder writable, as the calling user so the
# file stays theirs, and installs hooks that call this script.
if [ "${1:-}" = hooks ]; then
  shift
  scope=--user
  for arg in "$@"; do
    case $arg in --user | --project | --local) scope=$arg ;; --settings | --settings=* | --command | --command=*)
      die "run_sage_single.sh hooks chooses --settings and --command itself; use --user, --project or --local" 2 ;;
    esac
  done
  case $scope in
    --user) dir=${CLAUDE_CONFIG_DIR:-${HOME:?HOME is not set}/.claude} file=settings.json ;;
    --project) dir=$SAGE_PROJECT/.claude file=settings.json ;;
    --local) dir=$SAGE_PROJECT/.claude file=settings.local.json ;;
  esac
  mkdir -p "$dir"
  set -- hooks "$@"
  for arg in "$@"; do
    case $arg in --user | --project | --local) ;; *) set -- "$@" "$arg" ;; esac
    shift
  done
  user="--user $(id -u):$(id -g)"
  [ "$(basename "$cli")" != podman ] || [ "$(id -u)" = 0 ] || user="--userns keep-id"
  rm -f "$errors" # exec replaces this shell: the EXIT trap will not run
  # shellcheck disable=SC2086 # $user is two words
  exec "$cli" run --rm -i --network none --pull never $user -v "$dir:$dir" --entrypoint /usr/local/bin/sage \
    -e HOME=/tmp -e DATABASE_URL= -e SAGE_HOME= -e "SAGE_PROJECT=$SAGE_PROJECT" "$image" \
    "$@" --settings "$dir/$file" --command "$here/run_sage_single.sh"
fi

# ---- the long-lived container -----------------------------------------------------------------------------------
create_container() {
  # No network, no port.
  set -- run -d --name "$container" --network none --pull never \
    -v "$volume:/var/lib/sage" --label "sage.volume=$volume"
  # Hooks read Claude Code's transcripts by the host path Claude Code gives them: mount them at that same path.
  claude_dir=${CLAUDE_CONFIG_DIR:-${HOME:-}/.claude}
  if [ -n "${HOME:-}${CLAUDE_CONFIG_DIR:-}" ] && [ -d "$claude_dir" ]; then
    set -- "$@" -v "$claude_dir:$claude_dir:ro"
  fi
  "$cli" "$@" "$image" --daemon >/dev/null 2>"$errors"
}

# Racing windows are fine: the container name is unique, so only one `run` can create it (the others fail and find it
# running), and `start` of a running container does nothing. entrypoint.sh also locks the volume itself.
want=${image_id#sha256:}
attempt=0 launched=0
while :; do
  state=$("$cli" container inspect -f '{{.State.Running}} {{.Image}}' "$container" 2>/dev/null || :)
  has=${state#* }
  has=${has#sha256:}
  case $state in
    "true "*)
      [ "$has" = "$want" ] ||
        say "note: $container runs an older image; to upgrade, stop it ($cli stop $container) when no session uses it"
      break
      ;;
    "false "*)
      if [ "$launched" = 1 ]; then
        "$cli" logs --tail 30 "$container" >&2 2>&1 || :
        die "the container $container stopped right after starting (its log is above)"
      fi
      # Stopped (a reboot, `stop`). If the image was rebuilt since, replace the container: the data is in the volume.
      if [ "$has" != "$want" ]; then
        "$cli" rm "$container" >/dev/null 2>"$errors" || :
      elif "$cli" start "$container" >/dev/null 2>"$errors"; then
        launched=1
      fi
      ;;
    *) if create_container; then launched=1; fi ;;
  esac
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 50 ]; then
    cat "$errors" >&2
    die "could not start the container $container (messages above)"
  fi
  [ "$attempt" -lt 3 ] || sleep 0.2
done

# The window that started the container waits here until the database is ready, so that a container that cannot
# start (a damaged volume, a failed migration) is reported with its log instead of a bare exec error.
if [ "$launched" = 1 ] && ! "$cli" exec "$container" /usr/local/bin/entrypoint.sh --wait >&2; then
  if [ "$("$cli" container inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" != true ]; then
    "$cli" logs --tail 30 "$container" >&2 2>&1 || :
    die "the container $container stopped right after starting (its log is above)"
  fi
  die "the database in $container is not ready (messages above; the container's log: $cli logs $container)"
fi

# `view` writes its page to stdout (the container's files are not the host's), with commands that call this script.
if [ "${1:-}" = view ]; then
  case $here in *[!A-Za-z0-9_./-]*) self="'$here/run_sage_single.sh'" ;; *) self=$here/run_sage_single.sh ;; esac
  set -- "$@" --output - --no-open --command "$self"
fi

# ---- the session --------------------------------------------------------------------------------------------------
# `exec -e NAME` takes the value from this environment, so values need no quoting. No -t: stdout stays a clean pipe.
if [ "$buffered" = 1 ]; then
  # A hook whose fast path found no running container: its input was read already.
  # shellcheck disable=SC2086
  printf '%s' "$input" | "$cli" exec -i $pass "$container" /usr/local/bin/entrypoint.sh --join "$@"
  exit $?
fi
rm -f "$errors" # exec replaces this shell: the EXIT trap will not run
# shellcheck disable=SC2086
exec "$cli" exec -i $pass "$container" /usr/local/bin/entrypoint.sh --join "$@"
