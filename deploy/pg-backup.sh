#!/bin/sh
# Back up polykb's PostgreSQL database (activity, accounts, published generations) with pg_dump.
#   deploy/pg-backup.sh [FILE]        FILE defaults to polykb-YYYYmmdd-HHMMSS.dump
# Reads KB_DATABASE_URL (e.g. from /etc/polykb/replica.env). The custom format is compressed and lets
# pg_restore pick tables; the replicas keep serving while it runs (pg_dump reads one consistent snapshot).
set -eu
: "${KB_DATABASE_URL:?set KB_DATABASE_URL to the database to back up, e.g. postgresql://polykb@db/polykb}"
out="${1:-polykb-$(date -u +%Y%m%d-%H%M%S).dump}"
# pg_dump takes libpq URLs: drop SQLAlchemy's "+driver" part (postgresql+psycopg:// -> postgresql://).
url=$(printf '%s' "$KB_DATABASE_URL" | sed 's|^postgresql+[a-z0-9]*://|postgresql://|')
pg_dump --format=custom --no-owner --no-privileges --file "$out" "$url"
echo "backed up to $out"
