#!/usr/bin/env bash
# Starts a benchmark database: FerretDB v1.24.2 on PostgreSQL (Debian's postgresql package)
# instead of SQLite. On this backend FerretDB runs plain equality filters inside PostgreSQL;
# on SQLite it decodes and filters every document itself. Prints the MONGODB_URI to use on its
# last line; both servers keep running until `scripts/bench-postgres.sh stop`.
#   BENCH_PG_DIR   data folder (default /tmp/fhir-bench-pg)
#   BENCH_PG_PORT  PostgreSQL port (default 54329); FerretDB listens on the next port
set -euo pipefail
dir="${BENCH_PG_DIR:-/tmp/fhir-bench-pg}"
pg_port="${BENCH_PG_PORT:-54329}"
mongo_port=$((pg_port + 1))
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = stop ]; then
  [ -f "$dir/ferretdb.pid" ] && kill "$(cat "$dir/ferretdb.pid")" 2>/dev/null || true
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" stop -m fast >/dev/null 2>&1 || true
  exit 0
fi

ferretdb="$(bash "$(dirname "$0")/install-ferretdb.sh" | tail -1)"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
if [ ! -f "$dir/pg/PG_VERSION" ]; then
  as_postgres "$pg_bin/initdb" -D "$dir/pg" -U postgres --auth=trust >/dev/null
fi
if ! as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1; then
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
    -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c fsync=off -c synchronous_commit=off" start >/dev/null
  as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres ferretdb 2>/dev/null || true
fi
if [ ! -f "$dir/ferretdb.pid" ] || ! kill -0 "$(cat "$dir/ferretdb.pid")" 2>/dev/null; then
  "$ferretdb" --handler=postgresql --postgresql-url="postgres://postgres@127.0.0.1:$pg_port/ferretdb" \
    --listen-addr="127.0.0.1:$mongo_port" --telemetry=disable --debug-addr=- --state-dir="$dir" --log-level=warn \
    >"$dir/ferretdb.log" 2>&1 &
  echo $! > "$dir/ferretdb.pid"
  for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$mongo_port") 2>/dev/null && break; sleep 0.2; done
fi
echo "mongodb://127.0.0.1:$mongo_port/"
