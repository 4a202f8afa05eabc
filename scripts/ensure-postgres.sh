#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for the user
# postgres and a database named test, installing it from Debian's packages when it is missing.
# Prints the DSN the tests use. Idempotent.
set -euo pipefail

port=5432
dsn="postgres://postgres@127.0.0.1:${port}/test?sslmode=disable"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ -z "$version" ]; then
  echo "ensure-postgres: no PostgreSQL cluster found under /etc/postgresql" >&2
  exit 1
fi
hba="/etc/postgresql/${version}/main/pg_hba.conf"
if [ -f "$hba" ] && ! grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  # Tests connect over loopback without a password, as on the project's machines.
  as_root sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  restart=1
fi

if ! pg_isready -h 127.0.0.1 -p "$port" -q; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
elif [ "${restart:-0}" = 1 ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
fi

for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 1
done
if ! pg_isready -h 127.0.0.1 -p "$port" -q; then
  echo "ensure-postgres: PostgreSQL does not answer on 127.0.0.1:${port}" >&2
  exit 1
fi

# Every test migrates its own schema in one transaction (over a hundred tables and indexes), and
# go test runs packages in parallel: the default lock table (64 per connection) runs out
# ("out of shared memory"). Raise it once; it takes a restart.
locks=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "show max_locks_per_transaction" 2>/dev/null || echo 0)
if [ "${locks:-0}" -lt 512 ]; then
  echo "ensure-postgres: max_locks_per_transaction ${locks} -> 512 (restart)" >&2
  psql -h 127.0.0.1 -U postgres -d postgres -qc "alter system set max_locks_per_transaction = 512" >/dev/null
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p "$port" -q && break
    sleep 1
  done
fi

if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test" >/dev/null
fi
echo "$dsn"
