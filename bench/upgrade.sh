#!/usr/bin/env bash
# What an upgrade of Fineract alone costs beyond the backup it takes and
# the new Fineract's own start, and how long its rollback takes, on the lab
# core stack with a database of about SIZE_MB (default 256). Writes
# bench/upgrade.txt.
#   bash bench/upgrade.sh [SIZE_MB]     (needs what lab/test.sh sets up)
#
# The "newer release" is this source built with other pins
# (assets.releasePins, set at link time), moving Fineract from the lab's
# stand-in v1 (the assets' pin) to its v2 (one more schema change set,
# which rewrites every row of a table). The rollback is measured on the
# stand-in v2-broken (v2's migration, then never healthy): its upgrade is
# interrupted (SIGTERM, as Ctrl-C) once the new Fineract runs, and the next run
# rolls back (configuration, databases from the backup, services, checks).
# A rollback after a service timed out runs the same steps; only the
# timeout itself (Fineract's 15 minute health budget) is left out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
size_mb=${1:-256}
work=$(mktemp -d /tmp/fineract-bench-upgrade.XXXXXX)
project=fiupgrade
pins=github.com/fineract-installer/fineract-installer/assets.releasePins
v2ref=lab.fineract-installer.invalid/fineract-standin:v2
brokenref=lab.fineract-installer.invalid/fineract-standin:v2-broken
run() { local bin=$1; shift; "$work/$bin" --project "$project" --dir "$work/stack" "$@"; }
cleanup() {
  run v1 uninstall --purge --yes >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/v1" .
go build -o "$work/v2" -ldflags "-X '$pins=stack=lab-2;fineract=$v2ref;release.fineract=1.15.0'" .
go build -o "$work/broken" -ldflags "-X '$pins=stack=lab-2-broken;fineract=$brokenref;release.fineract=1.15.0'" .
export FINERACT_UNSEAL_PASSPHRASE="bench passphrase for the lab stack"
export FINERACT_BACKUP_PASSPHRASE="bench backup passphrase, long enough"

bench_answers "$work/answers.yaml" "$project" 19544 19181 122 "$work/stack"
run v1 install --answers "$work/answers.yaml" --yes -o json >/dev/null

# PostgreSQL runs as the uid the answers give it; peer authentication maps
# that uid to the postgres role.
pguser=$(docker inspect -f '{{.Config.User}}' "$project-postgres-1")
psql() { docker exec -i -u "$pguser" "$project-postgres-1" psql -X -q -At -h /var/run/postgresql -U postgres "$@"; }
db=$(psql -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'fineract%default%' ORDER BY 1 LIMIT 1")
rows=$((size_mb * 1024 * 1024 / 620))
echo "filling $db with $rows rows (about $size_mb MB)"
psql -d "$db" -c "CREATE TABLE bench_rows (id bigint PRIMARY KEY, payload text)"
psql -d "$db" -c "INSERT INTO bench_rows SELECT g, (SELECT string_agg(md5(random()::text || g::text || i::text), '') FROM generate_series(1, 16) i) FROM generate_series(1, $rows) g"
checksum() { psql -d "$db" -c "SELECT count(*), md5(string_agg(md5(payload), '' ORDER BY id)) FROM bench_rows"; }
before=$(checksum)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
# steps FILE: seconds each step took (from its done or failed event), or
# "skipped" when its check found it done.
steps() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") != "event":
        continue
    if e.get("kind") in ("done", "failed"):
        print(e["step"], f'{e.get("elapsed_ns", 0) / 1e9:.1f}')
    elif e.get("kind") == "skipped":
        print(e["step"], "skipped")
PY
}
step() { awk -v s="$2" '$1 == s {print $2}' "$1"; }

# 1. Rollback: interrupt the broken upgrade once its Fineract runs, then
# the rerun rolls back. The installer itself is the background job (not a
# subshell), and gets SIGTERM: a background job of a script ignores SIGINT.
"$work/broken" --project "$project" --dir "$work/stack" upgrade --yes -o json >"$work/broken.json" 2>"$work/broken.err" &
pid=$!
until grep -q '"step":"upgrade-service-fineract".*"subject":"fineract".*"action":"wait"' "$work/broken.json" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "the broken upgrade ended before Fineract started" >&2; cat "$work/broken.err" >&2; exit 1; }
  sleep 1
done
sleep 15 # its migration has run
kill -TERM "$pid"
wait "$pid" || true
grep -q '"exit_code":130' "$work/broken.err" || { echo "the broken upgrade did not stop as interrupted" >&2; cat "$work/broken.err" >&2; exit 1; }
s=$(now)
run broken upgrade --yes -o json >"$work/rollback.json" 2>"$work/rollback.err" || true
e=$(now)
rollback=$(elapsed "$s" "$e")
steps "$work/rollback.json" >"$work/rollback.steps"
[ "$(checksum)" = "$before" ] || { echo "the rollback changed the rows" >&2; exit 1; }
grep -q '"stack"' "$work/stack/images.json" && ! grep -q v2 "$work/stack/images.json" || { echo "the rollback changed the image record" >&2; exit 1; }

# 2. The upgrade to v2.
s=$(now)
run v2 upgrade --yes -o json >"$work/upgrade.json"
e=$(now)
total=$(elapsed "$s" "$e")
steps "$work/upgrade.json" >"$work/upgrade.steps"
[ "$(checksum)" = "$before" ] || { echo "the upgrade changed the rows" >&2; exit 1; }
backup=$(awk '$1 == "backup" || $1 == "vault" || $1 == "vault-ready" {s += $2} END {printf "%.1f", s}' "$work/upgrade.steps")
fineract=$(step "$work/upgrade.steps" upgrade-service-fineract)
added=$(awk -v t="$total" -v b="$backup" -v f="$fineract" 'BEGIN {printf "%.1f", t - b - f}')
archive_mb=$(du -m "$(ls -t "$work"/stack/backups/backup-*.fib | head -1)" | cut -f1)

{
  echo "# upgrade of Fineract alone (lab stand-in v1 -> v2) and its rollback, lab core stack, ${size_mb} MB of rows"
  bench_machine
  echo "rows checked identical (count and md5 over all payloads) after the rollback and after the upgrade; backup archive $archive_mb MB"
  echo
  printf '%-62s %8s\n' "" "seconds"
  printf '%-62s %8s\n' "upgrade, whole command" "$total"
  printf '%-62s %8s\n' "  backup (archive, Vault unsealed and healthy again)" "$backup"
  printf '%-62s %8s\n' "  Fineract replaced: stop, create, start, healthy" "$fineract"
  printf '%-62s %8s\n' "  added by the upgrade (the rest)" "$added"
  for s in upgrade-verify-backup upgrade-images render fineract-tenant-tls validate upgrade-record; do
    printf '%-62s %8s\n' "    $s" "$(step "$work/upgrade.steps" "$s")"
  done
  printf '%-62s %8s\n' "rollback after an interrupted upgrade, whole command" "$rollback"
  for s in render rollback-stop-clients rollback-databases services fineract-tenant-tls validate; do
    printf '%-62s %8s\n' "    $s" "$(step "$work/rollback.steps" "$s")"
  done
  echo
  echo "What the upgrade adds is verifying the whole archive, resolving the new image (here"
  echo "already on the host: a pull adds its download), rendering, the tenant TLS check and"
  echo "the checklist. The rollback's database part authenticates and unpacks the backup and"
  echo "replays it with pg_restore (as restore does); after a service timed out, its wait"
  echo "(Fineract's health budget) comes before it."
} >bench/upgrade.txt
cat bench/upgrade.txt
