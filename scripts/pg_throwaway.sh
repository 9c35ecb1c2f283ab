#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: Debian's PostgreSQL binaries, a data
# directory under /tmp, trust authentication on localhost only, fsync on (the vote path's
# "acknowledged means on disk" is tested, not assumed). Prints the URL to export as
# HEARTH_TEST_POSTGRES. Usage: scripts/pg_throwaway.sh [port]   (stop: pg_ctl -D DIR stop)
set -euo pipefail
PORT="${1:-55432}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$BIN/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
DIR="/tmp/hearth-pg-$PORT"
RUN=()
if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u postgres --); fi
if ! "${RUN[@]}" "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres "$DIR"
    "${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U hearth --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start \
        -o "-h 127.0.0.1 -p $PORT -k $DIR -c max_connections=300 -c shared_buffers=128MB" >/dev/null
fi
echo "postgresql://hearth@127.0.0.1:$PORT/postgres"
