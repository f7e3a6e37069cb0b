#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, database "test", trust auth) and Redis (127.0.0.1:6379)
# are running for the test suite: starts them if stopped, configures a fresh install.
set -euo pipefail

wait_for() { for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then echo "error: PostgreSQL is not installed" >&2; exit 1; fi
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # A fresh Debian install asks for passwords on TCP; the tests connect as postgres without one.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  echo "==> starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for pg_isready -h 127.0.0.1 -p 5432 -q || { echo "error: PostgreSQL did not start" >&2; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for redis-cli -h 127.0.0.1 -p 6379 ping || { echo "error: Redis did not start" >&2; exit 1; }
fi
