#!/usr/bin/env bash
# Physical backups and point-in-time recovery on the lab core stack with WAL
# archiving on, measured side by side in one run on one database of about
# SIZE_MB (default 5120, a Fineract-like loan book from bench/loanbook.sql):
#   1. pg_dump -Fc | openssl enc -aes-256-cbc -pbkdf2 and
#      openssl enc -d | pg_restore, every stack database (as bench/backup.sh);
#   2. the installer's base backup (`backup`) and `restore --to-latest`;
#   3. RPO: under a steady write load, the age of the newest WAL file in the
#      repository sampled every 10 s for RPO_SECONDS (default 600);
#   4. point in time: rows at t1 < t2 < t3, `restore --to-time` between t2
#      and t3 must give exactly the rows up to t2 (count and checksum).
# Writes bench/pitr.txt.
#   bash bench/pitr.sh [SIZE_MB]      (needs what lab/test.sh sets up)
#   SIZE_MB=200 RPO_SECONDS=60 bash bench/pitr.sh    a quick run
# Before each timed part the archiver is left to catch up, so no part pays
# for the WAL another one wrote.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
size_mb=${1:-${SIZE_MB:-5120}}
rpo_seconds=${RPO_SECONDS:-600}
sample_seconds=10
load_rows=${LOAD_ROWS:-200} # loan transactions a second during the RPO run
work=$(mktemp -d /tmp/fineract-bench-pitr.XXXXXX)
project=fipitr
bin=$work/fineract-installer
repo=$work/stack/backups/repository
installer() { "$bin" --project "$project" --dir "$work/stack" "$@"; }
cleanup() {
  local code=$?
  if [ "$code" != 0 ]; then
    # What the installer said, for the one who reruns it.
    for f in "$work"/*.json; do [ -e "$f" ] && { echo "== $f" >&2; tail -5 "$f" >&2; }; done
  fi
  installer uninstall --purge --yes >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$bin" .
export FINERACT_UNSEAL_PASSPHRASE="bench passphrase for the lab stack"
export FINERACT_BACKUP_PASSPHRASE="bench backup passphrase, long enough"

bench_answers "$work/answers.yaml" "$project" 19544 19181 122 "$work/stack"
cat >>"$work/answers.yaml" <<'EOF2'
backup: {wal_archiving: true, archive_timeout: 5m, rpo: 5m}
EOF2
log() { echo "$(date -u +%H:%M:%S) $*" >&2; }
log "installing the core stack with WAL archiving"
installer install --answers "$work/answers.yaml" --yes -o json >"$work/install.json"

# As the service's own uid, which peer authentication maps to postgres.
pg_user=$(docker inspect -f '{{.Config.User}}' "$project-postgres-1")
pg() { docker exec -i -u "$pg_user" "$project-postgres-1" "$@"; }
psql() { pg psql -X -q -At -h /var/run/postgresql -U postgres "$@"; }
# The default tenant's database, where Fineract keeps a bank's loans.
db=$(psql -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'fineract%' ORDER BY datname LIKE '%default%' DESC, datname LIMIT 1")
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
# span FILE START_RE END_RE: seconds between the first event whose
# "step kind message subject" matches START_RE and the last after it that
# matches END_RE ("-" when the events do not say).
span() {
  python3 - "$@" <<'PY'
import json, re, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s[:26].rstrip('Z')).timestamp()
start = end = None
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("type") != "event": continue
    m = " ".join(str(e.get(k, "")) for k in ("step", "kind", "message", "subject"))
    if start is None and re.search(sys.argv[2], m): start = t(e["time"])
    if start is not None and re.search(sys.argv[3], m): end = t(e["time"])
print("-" if start is None or end is None else f"{end - start:.1f}")
PY
}

# caught_up waits until every WAL written so far is in the repository.
caught_up() {
  local seg
  seg=$(psql -d postgres -c "SELECT pg_walfile_name(pg_switch_wal() - 1)")
  until [ "$(psql -d postgres -c "SELECT coalesce(last_archived_wal >= '$seg', false) FROM pg_stat_archiver")" = t ]; do sleep 2; done
}

log "filling $db with a loan book of about $size_mb MB"
t0=$SECONDS
clients=$(bash bench/loanbook.sh "$project-postgres-1" "$db" "$size_mb" | tail -1)
fill_s=$((SECONDS - t0))
log "filled in ${fill_s}s"
dbs=$(psql -d postgres -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1")
total_bytes=0
for d in $dbs; do total_bytes=$((total_bytes + $(psql -d postgres -c "SELECT pg_database_size('$d')"))); done
total_mb=$(awk -v b="$total_bytes" 'BEGIN {printf "%.0f", b / 1048576}')
rate() { awk -v mb="$total_mb" -v s="$1" 'BEGIN {if (s + 0 > 0) printf "%.0f", mb / s; else printf "-"}'; }
# checksum covers every row of the loan book's two largest tables: the
# count and the sum of each row's MD5 (its first 60 bits).
checksum() {
  psql -d "$db" -c "SELECT (SELECT count(*) || ' ' || sum(('x' || substr(md5(id || ':' || amount || ':' || transaction_date), 1, 15))::bit(60)::bigint) FROM bench.m_loan_transaction)
    || ' ' || (SELECT count(*) || ' ' || sum(('x' || substr(md5(id || ':' || amount || ':' || coalesce(ref_no, '')), 1, 15))::bit(60)::bigint) FROM bench.m_savings_account_transaction)"
}
before=$(checksum)
caught_up

# 1. The shell pipeline, every database.
log "pg_dump -Fc | openssl enc"
s=$(now)
for d in $dbs; do
  pg pg_dump -Fc -h /var/run/postgresql -U postgres -d "$d" | openssl enc -aes-256-cbc -pbkdf2 -pass env:FINERACT_BACKUP_PASSPHRASE >"$work/$d.dump.enc"
done
shell_backup=$(elapsed "$s" "$(now)")
shell_mb=$(du -cm "$work"/*.dump.enc | tail -1 | cut -f1)
log "openssl enc -d | pg_restore"
docker stop "$project-fineract-1" >/dev/null
s=$(now)
for d in $dbs; do
  openssl enc -d -aes-256-cbc -pbkdf2 -pass env:FINERACT_BACKUP_PASSPHRASE <"$work/$d.dump.enc" |
    pg pg_restore --clean --if-exists --create --exit-on-error -h /var/run/postgresql -U postgres -d postgres
done
shell_restore=$(elapsed "$s" "$(now)")
docker start "$project-fineract-1" >/dev/null
[ "$(checksum)" = "$before" ] || { echo "the shell restore changed the rows" >&2; exit 1; }
rm -f "$work"/*.dump.enc
caught_up

# 2. The installer: a base backup into the repository, and a restore of
# the newest state (that base backup and the WAL after it).
log "installer backup (base backup)"
s=$(now)
installer backup -o json >"$work/backup.json"
inst_backup=$(elapsed "$s" "$(now)")
inst_backup_db=$(span "$work/backup.json" "streaming the data directory" "data directory stored")
base=$(find "$repo/base" -maxdepth 1 -name '*.fibackup' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
base_mb=$(du -m "$base" | cut -f1)
caught_up
log "installer restore --to-latest"
s=$(now)
installer restore --to-latest --yes -o json >"$work/restore.json"
inst_restore=$(elapsed "$s" "$(now)")
inst_restore_db=$(span "$work/restore.json" "^restore-base-data started" "WAL replayed to")
[ "$(checksum)" = "$before" ] || { echo "the installer's restore changed the rows" >&2; exit 1; }
# The restore opened a new timeline: the next base backup starts on it.
installer backup -o json >"$work/backup2.json"

# 3. RPO under a steady write load: the age of the newest WAL file in the
# repository (its mtime: when wal-push renamed it into place).
log "RPO: ${rpo_seconds}s of writes at $load_rows rows/s, sampled every ${sample_seconds}s"
psql -d "$db" -c "CREATE TABLE bench.load_tx (id bigserial PRIMARY KEY, loan_id bigint NOT NULL, amount numeric(19,6) NOT NULL, created_on_utc timestamptz NOT NULL DEFAULT clock_timestamp())"
psql -d "$db" -c "DO \$\$ DECLARE stop timestamptz := clock_timestamp() + interval '$rpo_seconds seconds'; BEGIN
  WHILE clock_timestamp() < stop LOOP
    INSERT INTO bench.load_tx (loan_id, amount) SELECT 1 + (random() * $clients)::bigint, round((100 + random() * 25000)::numeric, 2) FROM generate_series(1, $((load_rows / 10)));
    COMMIT;
    PERFORM pg_sleep(0.1);
  END LOOP; END \$\$" &
load=$!
samples=()
end=$((SECONDS + rpo_seconds))
while [ "$SECONDS" -lt "$end" ]; do
  newest=$(find "$repo/wal" -maxdepth 1 -name '*.fiwal' -printf '%T@\n' | sort -n | tail -1)
  samples+=("$(awk -v n="$(now)" -v m="$newest" 'BEGIN {printf "%.0f", n - m}')")
  sleep "$sample_seconds"
done
wait "$load"
load_rows_written=$(psql -d "$db" -c "SELECT count(*) FROM bench.load_tx")
rpo_max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
rpo_mean=$(printf '%s\n' "${samples[@]}" | awk '{s += $1} END {printf "%.0f", s / NR}')
archived=$(psql -d postgres -c "SELECT archived_count || ' archived, ' || failed_count || ' failed' FROM pg_stat_archiver")

# 4. Point in time: rows at t1 < t2 < t3, a target between t2 and t3.
log "point in time"
psql -d "$db" -c "CREATE TABLE bench.pitr (id serial PRIMARY KEY, phase int NOT NULL, payload text NOT NULL, written timestamptz NOT NULL DEFAULT clock_timestamp())"
phase() { psql -d "$db" -c "INSERT INTO bench.pitr (phase, payload) SELECT $1, md5(random()::text) FROM generate_series(1, 1000)"; }
pitr_sum() { psql -d "$db" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(id || ':' || phase || ':' || payload, ',' ORDER BY id)), '-') FROM bench.pitr"; }
phase 1
sleep 2
phase 2
want=$(pitr_sum)
t2=$(psql -d "$db" -c "SELECT max(written) FROM bench.pitr")
sleep 2
target=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 2
phase 3
t3=$(psql -d "$db" -c "SELECT min(written) FROM bench.pitr WHERE phase = 3")
all=$(pitr_sum)
caught_up
installer restore --to-time "$target" --yes -o json >"$work/pitr.json"
got=$(pitr_sum)
[ "$got" = "$want" ] || { echo "restore --to-time $target: rows $got, want $want (the rows up to t2)" >&2; exit 1; }

{
  echo "# physical backup and point-in-time recovery of a ${total_mb} MB database (pg_database_size, all stack databases) on the lab core stack, WAL archiving on"
  bench_machine
  echo "data: bench/loanbook.sql, $clients clients (loans, repayment schedules, loan and savings transactions), filled in ${fill_s}s; rows checked identical (count and a sum of per-row MD5s over the two largest tables) after each restore"
  echo
  printf '%-62s %8s %8s\n' "" "seconds" "MB/s"
  printf '%-62s %8s %8s\n' "installer backup, database part (pg_basebackup, zstd, encrypted)" "$inst_backup_db" "$(rate "$inst_backup_db")"
  printf '%-62s %8s %8s\n' "installer backup, whole command (+ install dir and Vault)" "$inst_backup" "$(rate "$inst_backup")"
  printf '%-62s %8s %8s\n' "pg_dump -Fc | openssl enc -aes-256-cbc -pbkdf2" "$shell_backup" "$(rate "$shell_backup")"
  printf '%-62s %8s %8s\n' "installer restore --to-latest, database part (unpack + replay)" "$inst_restore_db" "$(rate "$inst_restore_db")"
  printf '%-62s %8s %8s\n' "installer restore --to-latest, whole command (+ checklist)" "$inst_restore" "$(rate "$inst_restore")"
  printf '%-62s %8s %8s\n' "openssl enc -d | pg_restore --create" "$shell_restore" "$(rate "$shell_restore")"
  echo
  echo "size: base backup $base_mb MB vs $shell_mb MB (pg_dump -Fc, encrypted)"
  awk -v a="$inst_backup_db" -v b="$shell_backup" -v c="$inst_restore_db" -v d="$shell_restore" -v e="$inst_backup" -v f="$inst_restore" 'BEGIN {
    if (a + 0 > 0 && c + 0 > 0) printf "throughput ratio, database part (installer / shell): backup %.2f (goal >= 3), restore %.2f (goal >= 2)\n", b / a, d / c
    printf "throughput ratio, whole commands (installer / shell): backup %.2f, restore %.2f\n", b / e, d / f
  }'
  echo
  echo "RPO: archive_timeout 5m, rpo 5m; $load_rows loan transactions a second for ${rpo_seconds}s ($load_rows_written rows);"
  echo "age of the newest WAL file in the repository, sampled every ${sample_seconds}s: max ${rpo_max}s, mean ${rpo_mean}s over ${#samples[@]} samples (goal: never above 300s)"
  echo "samples (s): ${samples[*]}"
  echo "archiver: $archived"
  echo
  echo "point in time: 1000 rows each at t1, t2 ($t2), t3 ($t3); restore --to-time $target"
  echo "rows after: $got; rows up to t2: $want; all rows before the restore: $all -> $([ "$got" = "$want" ] && echo exact)"
} >bench/pitr.txt
cat bench/pitr.txt
