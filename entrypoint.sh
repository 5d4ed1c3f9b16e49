#!/bin/sh
# entrypoint.sh: PID 1 of the Sage image. PostgreSQL (+ pgvector) listens on a Unix socket only; `sage` talks MCP
# over this container's STDIO.
#
#   entrypoint.sh [sage command]    one-shot, the image's default (`docker run --rm -i IMAGE`): start PostgreSQL, run
#                                   `sage serve` (or the given command) on this STDIO, stop PostgreSQL when it ends
#   entrypoint.sh --daemon          long-lived (run_sage_single.sh): PostgreSQL runs for the container's lifetime;
#                                   sessions join with `exec -i CONTAINER entrypoint.sh --join [sage command]`
#   entrypoint.sh --join [command]  wait until the database is ready, then become `sage` (run by `exec`, not PID 1)
#   entrypoint.sh --wait            only wait until the database is ready (exit 1 with the reason if it cannot be)
#
# Why it is shaped like this:
# - stdout belongs to JSON-RPC. The script moves its own stdout to stderr first thing and hands the real one (fd 3)
#   to sage alone; PostgreSQL, initdb, psql and `sage migrate` write to a log file or stderr, never to stdout.
# - PID 1 must reap. This shell stays PID 1 and spends its life in `wait`, which reaps every child, including
#   PostgreSQL backends orphaned by a killed postmaster; a postmaster that dies is restarted by the supervisor.
# - Never two postmasters on one data directory: the whole container holds an exclusive lock on the volume
#   (flock on $SAGE_HOME/volume.lock, released by the kernel when the container dies, even by kill -9), so a second
#   container on the same volume stops with an error instead of starting PostgreSQL.
# - Nothing acknowledged is lost: PostgreSQL keeps its durability defaults (fsync, synchronous_commit, full-page
#   writes); after a hard kill the next start replays the WAL.
set -eu

exec 3>&1 1>&2 # fd 3: the real stdout, for sage only. fd 1 is stderr from here on.
exec 4<&0      # fd 4: the real stdin; a backgrounded command would otherwise get /dev/null

SAGE_HOME=${SAGE_HOME:-/var/lib/sage}
PGDATA=$SAGE_HOME/pgdata
PG_LOG=$SAGE_HOME/logs/postgresql.log
RUN_DIR=/run/sage # socket and state markers: container-local, never in the volume (matches DATABASE_URL)
READY=$RUN_DIR/ready
FAILED=$RUN_DIR/failed
PG_USER=postgres

# Which start of the container this is: the kernel's boot id and PID 1's start time. The ready and failed markers
# carry it, so a marker left by an earlier start (a container killed with -9 keeps its files) never counts.
start_time() {
  # shellcheck disable=SC2086 # the fields after "pid (comm) "; the 20th of them is the start time
  set -- ${1#*) }
  shift 19
  echo "$1"
}
START=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || :)-$(start_time "$(cat /proc/1/stat)")

say() { printf 'sage-entrypoint: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

# ---- PostgreSQL -----------------------------------------------------------------------------------------------

# The newest installed major version (the image installs one: Debian trixie's 17).
pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ]; then
  die "PostgreSQL is not installed in this image (no /usr/lib/postgresql/*/bin)"
fi

# PostgreSQL refuses to run as root.
as_postgres() { setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups -- "$@"; }
sql() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -U sage "$@"; }

# Run once per container start, before PostgreSQL: lock the volume, clean up after a hard kill, initialise if empty.
prepare_volume() {
  mkdir -p "$SAGE_HOME/logs"
  exec 9>>"$SAGE_HOME/volume.lock"
  flock -n 9 || die "another container is already using the data volume mounted at $SAGE_HOME;" \
    "join it (run_sage_single.sh does) instead of starting a second PostgreSQL on the same data"
  # A fresh container has a fresh PID namespace and we hold the volume lock, so no postmaster can be running on
  # this data directory: a postmaster.pid left here is from a container that was killed, and would only make
  # PostgreSQL mistake an unrelated process with the same PID for its predecessor.
  rm -f "$PGDATA/postmaster.pid"
  mkdir -p "$RUN_DIR"
  find "$RUN_DIR" -mindepth 1 -delete
  chown "$PG_USER:" "$RUN_DIR"
  chmod 700 "$RUN_DIR"
  # Keep one old log: the file only grows by a few lines per start, but a long-lived volume should not grow forever.
  if [ -f "$PG_LOG" ] && [ "$(wc -c <"$PG_LOG")" -gt 10000000 ]; then mv -f "$PG_LOG" "$PG_LOG.1"; fi
  if [ -s "$PGDATA/PG_VERSION" ]; then
    have=$(cat "$PGDATA/PG_VERSION")
    want=${pgbin%/bin}
    want=${want##*/}
    [ "$have" = "$want" ] || die "the data in this volume was written by PostgreSQL $have, and this image has" \
      "PostgreSQL $want. Export the memories with the image that wrote them (run_sage_single.sh export" \
      "--all-projects > backup.jsonl), then import them into a new volume (SAGE_VOLUME=… import - < backup.jsonl)."
    return 0
  fi
  if [ -e "$PGDATA" ]; then
    rmdir "$PGDATA" 2>/dev/null || die "$PGDATA is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away"
  fi
  # initdb works in a side folder that is renamed when complete: a start killed half-way leaves no half cluster.
  rm -rf "$PGDATA.new"
  mkdir -p "$PGDATA.new"
  chown "$PG_USER:" "$PGDATA.new"
  chmod 700 "$PGDATA.new"
  if ! as_postgres "$pgbin/initdb" -D "$PGDATA.new" -U sage --auth=trust -E UTF8 --no-locale --no-instructions \
    >"$SAGE_HOME/logs/initdb.log" 2>&1; then
    cat "$SAGE_HOME/logs/initdb.log" >&2
    die "initdb failed (log above)"
  fi
  mv "$PGDATA.new" "$PGDATA"
}

start_postgres() {
  # Settings on the command line win over postgresql.conf, so an edited config file cannot open a TCP port.
  # No parallel index builds: they use /dev/shm, which container engines cap at 64 MB by default.
  # setpriv is called directly (not through as_postgres) so that the background job execs into the postmaster
  # and $! is its PID: signals must reach PostgreSQL itself, not a subshell.
  setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups -- "$pgbin/postgres" -D "$PGDATA" \
    -c listen_addresses= \
    -c unix_socket_directories="$RUN_DIR" \
    -c unix_socket_permissions=0700 \
    -c jit=off \
    -c max_parallel_maintenance_workers=0 \
    </dev/null >>"$PG_LOG" 2>&1 3>&- 4<&- &
  pg_pid=$!
}

# Waits for the postmaster to accept connections; fails if it exits first.
wait_postgres() {
  while ! "$pgbin/pg_isready" -q -h "$RUN_DIR" -U sage -d postgres; do
    kill -0 "$pg_pid" 2>/dev/null || return 1
    sleep 0.05
  done
}

# Idempotent, after every PostgreSQL start: the database, the extension, Sage's schema.
prepare_database() {
  if [ "$(sql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sage'")" != 1 ]; then
    sql -d postgres -c 'CREATE DATABASE sage' || return 1
  fi
  sql -d sage -c 'CREATE EXTENSION IF NOT EXISTS vector' || return 1
  sage migrate </dev/null 3>&- || return 1
}

# Waits for a child, also across signals that interrupt `wait` (their traps run meanwhile). Sets $status.
# `wait` also reaps any other child that ends meanwhile, including orphans adopted by PID 1.
wait_for() {
  status=0
  while :; do
    wait "$1" && status=0 || status=$?
    kill -0 "$1" 2>/dev/null || return 0
  done
}

# Keeps PostgreSQL up until it receives TERM: starts it, prepares the database, marks it ready, and starts it again
# if it dies (a crash, an OOM kill, `kill -9` of the postmaster). Runs in the background.
supervise() {
  stopping=0 pg_pid='' failures=0
  trap 'stopping=1; [ -z "$pg_pid" ] || kill -INT "$pg_pid" 2>/dev/null || :' TERM # INT = fast shutdown
  trap '' INT HUP
  while [ "$stopping" = 0 ]; do
    start_postgres
    [ "$stopping" = 0 ] || kill -INT "$pg_pid" 2>/dev/null || : # TERM arrived while it was starting
    if wait_postgres; then
      failures=0
      if prepare_database >"$RUN_DIR/prepare.log" 2>&1; then
        rm -f "$FAILED"
        echo "$START" >"$READY"
      else
        cat "$RUN_DIR/prepare.log" >&2
        {
          echo "$START"
          echo "sage: the database could not be prepared (PostgreSQL keeps running, so the data can be inspected):"
          tail -n 20 "$RUN_DIR/prepare.log"
        } >"$FAILED"
      fi
    else
      # A restart can fail while the old server's processes are still exiting; sessions hear of repeated failures.
      failures=$((failures + 1))
      if [ "$failures" -ge 3 ]; then
        {
          echo "$START"
          echo "sage: PostgreSQL does not start; the end of $PG_LOG:"
          tail -n 20 "$PG_LOG"
        } >"$FAILED"
      fi
    fi
    wait_for "$pg_pid"
    rm -f "$READY"
    [ "$stopping" = 0 ] || break
    say "PostgreSQL exited (status $status; see $PG_LOG); starting it again"
    sleep 1
  done
}

# Whether a marker file was written during this start of the container.
current() { [ -f "$1" ] && [ "$(head -n 1 "$1" 2>/dev/null)" = "$START" ]; }

# Waits until the supervisor says the database is ready; fails if it reports an error or dies ($1 = its PID, or
# empty when it is not our child).
wait_ready() {
  tries=0
  until current "$READY"; do
    if current "$FAILED"; then
      tail -n +2 "$FAILED" >&2
      return 1
    fi
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
      tail -n 20 "$PG_LOG" >&2 2>/dev/null || :
      say "PostgreSQL did not start (log above: $PG_LOG)"
      return 1
    fi
    tries=$((tries + 1))
    if [ "$tries" -gt 3000 ]; then
      say "the database was not ready after 5 minutes; see $PG_LOG"
      return 1
    fi
    sleep 0.1
  done
}

stop_supervisor() {
  kill -TERM "$sup_pid" 2>/dev/null || :
  wait_for "$sup_pid"
}

# ---- the three modes ------------------------------------------------------------------------------------------

oneshot() {
  [ $# -gt 0 ] || set -- serve
  prepare_volume
  supervise 3>&- 4<&- &
  sup_pid=$!
  sage_pid=
  trap 'if [ -n "$sage_pid" ]; then kill -TERM "$sage_pid" 2>/dev/null || :; else stop_supervisor; exit 143; fi' TERM INT HUP
  if ! wait_ready "$sup_pid"; then
    stop_supervisor
    exit 1
  fi
  sage "$@" <&4 >&3 4<&- 3>&- &
  sage_pid=$!
  wait_for "$sage_pid"
  code=$status
  stop_supervisor
  exit "$code"
}

daemon() {
  prepare_volume
  supervise 3>&- 4<&- &
  sup_pid=$!
  trap 'kill -TERM "$sup_pid" 2>/dev/null || :' TERM INT HUP
  wait_for "$sup_pid"
  exit 0
}

join() {
  [ $# -gt 0 ] || set -- serve
  wait_ready || exit 1
  exec sage "$@" >&3 3>&- 4<&-
}

case ${1:-} in
  --daemon)
    [ $# -eq 1 ] || die "--daemon takes no arguments"
    daemon
    ;;
  --join)
    shift
    join "$@"
    ;;
  --wait) wait_ready ;;
  *) oneshot "$@" ;;
esac
