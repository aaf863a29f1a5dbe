#!/usr/bin/env bash
# System packages and services the full test suite needs (Debian; run as root):
# PostGIS for the server store, PDF tooling for dossiers and village maps and their tests,
# chromium for the browser tests (Playwright drives Debian's chromium; no browser download),
# DejaVu Sans for rebuilding the map's label glyphs.
# Idempotent: installs only what is missing, starts PostgreSQL only if it is not running.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1 || need+=(postgresql-15-postgis-3)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p | grep -q libpangoft2 || need+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# DejaVu Sans: the source of the map's label glyphs, needed only to rebuild them (scripts/build_glyphs.py)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='safeground_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE safeground_test" >/dev/null
psql -h 127.0.0.1 -U postgres -d safeground_test -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
echo "system ready: PostGIS at postgresql://postgres@127.0.0.1:5432/safeground_test, PDF tooling and chromium installed"
