#!/usr/bin/env bash
# Fills a database with a Fineract-like loan book of about SIZE_MB
# (bench/loanbook.sql: about 1 GB per 65000 clients, WAL-logged tables with
# their indexes), in two parallel sessions.
#   bash bench/loanbook.sh CONTAINER DATABASE SIZE_MB
# CONTAINER is a running PostgreSQL container whose local socket lets its
# own user in as postgres (the stack's postgres service does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
container=$1 db=$2 size_mb=$3
# Measured on PostgreSQL 17: 50000 clients make 771 MB with the indexes.
clients=$((size_mb * 50000 / 771))
parts=2
user=$(docker inspect -f '{{.Config.User}}' "$container")
lb() { docker exec -i -u "${user:-postgres}" "$container" psql -X -q -At -h /var/run/postgresql -U postgres -d "$db" "$@" -f - <bench/loanbook.sql; }
lb -v step=schema
pids=()
for ((p = 0; p < parts; p++)); do
  lb -v step=fill -v clients="$clients" -v part="$p" -v parts="$parts" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
lb -v step=index
echo "$clients"
