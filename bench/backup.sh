#!/usr/bin/env bash
# Backup and restore throughput for a database of about SIZE_MB (default
# 1024) on the lab core stack, next to the shell approach on the same
# machine: pg_dump -Fc inside the container piped through
# `openssl enc -aes-256-cbc -pbkdf2`, and back through `openssl enc -d` into
# pg_restore. Writes bench/backup.txt.
#   bash bench/backup.sh [SIZE_MB]     (needs what lab/test.sh sets up)
#
# The installer's backup also copies Vault's storage (stopping, restarting
# and unsealing Vault) and the install dir; its restore verifies the whole
# archive before touching anything, puts the install dir and Vault back,
# starts every service, waits for health and runs the checklist. Those fixed
# costs are reported apart from the database part, which is timed from the
# installer's own events.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
size_mb=${1:-1024}
work=$(mktemp -d /tmp/fineract-bench-backup.XXXXXX)
project=fibackup
bin=$work/fineract-installer
installer() { "$bin" --project "$project" --dir "$work/stack" "$@"; }
cleanup() {
  installer uninstall --purge --yes >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$bin" .
export FINERACT_UNSEAL_PASSPHRASE="bench passphrase for the lab stack"
export FINERACT_BACKUP_PASSPHRASE="bench backup passphrase, long enough"

bench_answers "$work/answers.yaml" "$project" 19543 19180 121 "$work/stack"
installer install --answers "$work/answers.yaml" --yes -o json >/dev/null

pg() { docker exec -i -u postgres "$project-postgres-1" "$@"; }
psql() { pg psql -X -q -At -h /var/run/postgresql -U postgres "$@"; }
db=$(psql -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'fineract%default%' OR datname LIKE 'fineract%' ORDER BY datname DESC LIMIT 1")
# Rows of 16 independent md5s (512 hex characters): below PostgreSQL's
# TOAST threshold, so the table is stored uncompressed at about 620 bytes
# a row; pg_dump's compression gets about half of it back.
rows=$((size_mb * 1024 * 1024 / 620))
echo "filling $db with $rows rows (about $size_mb MB)"
t0=$SECONDS
psql -d "$db" -c "CREATE TABLE bench_rows (id bigint PRIMARY KEY, payload text)"
psql -d "$db" -c "INSERT INTO bench_rows SELECT g, (SELECT string_agg(md5(random()::text || g::text || i::text), '') FROM generate_series(1, 16) i) FROM generate_series(1, $rows) g"
psql -d "$db" -c "VACUUM ANALYZE bench_rows"
echo "filled in $((SECONDS - t0))s"
dbs=$(psql -d postgres -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1")
total_bytes=0
for d in $dbs; do total_bytes=$((total_bytes + $(psql -d postgres -c "SELECT pg_database_size('$d')"))); done
total_mb=$(awk -v b="$total_bytes" 'BEGIN {printf "%.0f", b / 1048576}')
checksum() { psql -d "$db" -c "SELECT count(*), md5(string_agg(md5(payload), '' ORDER BY id)) FROM bench_rows"; }
before=$(checksum)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
rate() { awk -v mb="$total_mb" -v s="$1" 'BEGIN {printf "%.0f", mb / s}'; }
# span FILE START_RE END_RE: seconds between the first event whose message
# matches START_RE and the last whose message matches END_RE.
span() {
  python3 - "$@" <<'PY'
import json, re, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s[:26].rstrip('Z')).timestamp()
start = end = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") != "event": continue
    m = e.get("message", "") + " " + e.get("subject", "")
    if start is None and re.search(sys.argv[2], m): start = t(e["time"])
    if re.search(sys.argv[3], m): end = t(e["time"])
print(f"{end - start:.1f}")
PY
}

# 1. The installer's backup.
s=$(now)
installer backup --out "$work/stack.fib" -o json >"$work/backup.json"
e=$(now)
inst_backup=$(elapsed "$s" "$e")
inst_backup_db=$(span "$work/backup.json" "files of the install dir" "^database ")
archive_mb=$(du -m "$work/stack.fib" | cut -f1)

# 2. The shell approach: every database, pg_dump | openssl enc.
s=$(now)
for d in $dbs; do
  pg pg_dump -Fc -h /var/run/postgresql -U postgres -d "$d" | openssl enc -aes-256-cbc -pbkdf2 -pass env:FINERACT_BACKUP_PASSPHRASE >"$work/$d.dump.enc"
done
e=$(now)
shell_backup=$(elapsed "$s" "$e")
shell_mb=$(du -cm "$work"/*.dump.enc | tail -1 | cut -f1)

# 3. The shell restore: Fineract stopped (pg_restore --create drops the
# database), openssl enc -d | pg_restore, Fineract started again.
docker stop "$project-fineract-1" >/dev/null
s=$(now)
for d in $dbs; do
  openssl enc -d -aes-256-cbc -pbkdf2 -pass env:FINERACT_BACKUP_PASSPHRASE <"$work/$d.dump.enc" |
    pg pg_restore --clean --if-exists --create --exit-on-error -h /var/run/postgresql -U postgres -d postgres
done
e=$(now)
shell_restore=$(elapsed "$s" "$e")
docker start "$project-fineract-1" >/dev/null
[ "$(checksum)" = "$before" ] || { echo "the shell restore changed the rows" >&2; exit 1; }

# 4. The installer's restore of its own backup.
s=$(now)
installer restore "$work/stack.fib" --yes -o json >"$work/restore.json"
e=$(now)
inst_restore=$(elapsed "$s" "$e")
inst_restore_db=$(span "$work/restore.json" "restoring the roles and databases" "database .* restored")
[ "$(checksum)" = "$before" ] || { echo "the installer's restore changed the rows" >&2; exit 1; }

{
  echo "# backup and restore of a ${total_mb} MB database (pg_database_size, all stack databases) on the lab core stack"
  bench_machine
  echo "rows: $rows in $db.bench_rows; restored rows checked identical (count and md5 over all payloads) after each restore"
  echo
  printf '%-58s %8s %8s\n' "" "seconds" "MB/s"
  printf '%-58s %8s %8s\n' "installer backup, database part (pg_dump into the archive)" "$inst_backup_db" "$(rate "$inst_backup_db")"
  printf '%-58s %8s %8s\n' "installer backup, whole command (+ Vault stop/unseal)" "$inst_backup" "$(rate "$inst_backup")"
  printf '%-58s %8s %8s\n' "pg_dump -Fc | openssl enc -aes-256-cbc -pbkdf2" "$shell_backup" "$(rate "$shell_backup")"
  printf '%-58s %8s %8s\n' "installer restore, database part (pg_restore)" "$inst_restore_db" "$(rate "$inst_restore_db")"
  printf '%-58s %8s %8s\n' "installer restore, whole command (verify, extract, Vault, services, checks)" "$inst_restore" "$(rate "$inst_restore")"
  printf '%-58s %8s %8s\n' "openssl enc -d | pg_restore --create" "$shell_restore" "$(rate "$shell_restore")"
  echo
  echo "archive: $archive_mb MB (installer, everything) vs $shell_mb MB (shell, databases only)"
  awk -v a="$inst_backup_db" -v b="$shell_backup" -v c="$inst_restore_db" -v d="$shell_restore" -v e="$inst_backup" -v f="$inst_restore" 'BEGIN {
    printf "throughput ratio, database part (installer / shell): backup %.2f, restore %.2f\n", b / a, d / c
    printf "throughput ratio, whole commands (installer / shell): backup %.2f, restore %.2f\n", b / e, d / f
  }'
  echo
  echo "Both sides run the same pg_dump -Fc and pg_restore inside the container, which bound"
  echo "the database part; the archive's AES-256-GCM and argon2id add little on top"
  echo "(bench/backup-crypto.txt). The whole restore waits for every service's healthcheck."
} >bench/backup.txt
cat bench/backup.txt
