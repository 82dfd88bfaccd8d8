# Sourced by the test and benchmark scripts: installs PostgreSQL from Debian's packages when it is missing,
# starts a throwaway cluster on 127.0.0.1 in a temporary directory, exports WAGATE_TEST_POSTGRES_URL and stops
# the cluster when the calling script exits.

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_install() {
  pg_bin_dir >/dev/null && return 0
  echo "postgres: not installed; installing Debian's postgresql package" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  # Debian starts a cluster of its own on install; the tests use their own, so stop it.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  pg_bin_dir >/dev/null
}

pg_free_port() {
  python3 - <<'PY' 2>/dev/null || echo 55432
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_start() {
  pg_install || { echo "postgres: could not install PostgreSQL" >&2; return 1; }
  local bin; bin=$(pg_bin_dir)
  PG_TMP=$(mktemp -d /tmp/wagate-pg.XXXXXX)
  local port; port=$(pg_free_port)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_TMP"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust --no-sync -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c max_connections=300 -c fsync=on -c shared_buffers=128MB" \
    start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_CTL_STOP=("${run[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m immediate stop)
  export WAGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export WAGATE_TEST_PG_CTL="$bin/pg_ctl" WAGATE_TEST_PG_DATA="$PG_TMP/data"
  echo "postgres: throwaway cluster on 127.0.0.1:$port" >&2
}

pg_stop() {
  if [ -n "${PG_TMP:-}" ]; then
    "${PG_CTL_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
