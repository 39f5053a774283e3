#!/bin/sh
# Restore a pg-backup.sh dump into an EMPTY database, in one transaction: all of it or nothing.
#   deploy/pg-restore.sh FILE postgresql://polykb@db/polykb_restored
# Create the database first (createdb -O polykb polykb_restored), then point the replicas' KB_DATABASE_URL
# at it and restart them: they download the restored generations and serve the restored reports.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 DUMP-FILE TARGET-DATABASE-URL" >&2; exit 2; }
url=$(printf '%s' "$2" | sed 's|^postgresql+[a-z0-9]*://|postgresql://|')
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$url" "$1"
echo "restored $1"
