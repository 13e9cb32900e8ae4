#!/usr/bin/env bash
# Classroom reset on the lab: `demo reset` of one tenant whose database
# holds about 1 GB, against what a trainer did before it existed, a full
# `uninstall --purge` and `install` of the demo; and the wall time of
# `tenants add --count 12`. Writes bench/tenants.txt.
#   bash bench/tenants.sh [RESETS]      (needs what lab/test.sh sets up)
#
# The 1 GB tenant is the default tenant (its snapshot is taken at the end of
# the demo install, and again here once it is filled): a reset is the same
# PostgreSQL work for every tenant (CREATE DATABASE ... TEMPLATE its
# snapshot), so any tenant's figure is this one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
resets=${1:-5}
work=$(mktemp -d /tmp/fineract-bench-tenants.XXXXXX)
project=fibenchtn
bin=$work/fineract-installer
trap '"$bin" --project "$project" --dir "$work/stack" uninstall --purge --yes >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
go build -o "$bin" .
export FINERACT_UNSEAL_PASSPHRASE="bench passphrase for the lab stack"
bench_answers "$work/answers.yaml" "$project" 19445 19082 121 "$work/stack"
installer() { "$bin" --project "$project" --dir "$work/stack" "$@"; }
now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{printf "%.3f", $2 - $1}'; }

installer uninstall --purge --yes >/dev/null 2>&1 || true
fineract_image=$(docker image inspect -f '{{index .RepoTags 0}} {{.ID}}' openmf/fineract:1.14.0 | cut -c1-40)
start=$(now)
installer install --answers "$work/answers.yaml" --yes -o json >"$work/install.json" || { tail -5 "$work/install.json"; exit 1; }
first_install=$(since "$start")
echo "first install: ${first_install}s"

# Fill the default tenant's database with about 1 GB, as PostgreSQL's own
# uid over the unix socket (as the installer does), and snapshot it.
pg=$project-postgres-1
uid=$(docker inspect -f '{{.Config.User}}' "$pg")
psql_in() { docker exec -i -u "$uid" "$pg" psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres "$@"; }
psql_in -d fineract_default -c "CREATE TABLE bench_filler AS SELECT i, repeat(md5(i::text), 30) AS pad FROM generate_series(1, 1050000) AS i"
size=$(psql_in -At -d postgres -c "SELECT pg_database_size('fineract_default')")
echo "fineract_default: $size bytes"
start=$(now)
installer demo snapshot default >/dev/null
snapshot=$(since "$start")
echo "demo snapshot default (1 GB): ${snapshot}s"

: >"$work/resets.txt"
for i in $(seq 1 "$resets"); do
  psql_in -d fineract_default -c "DELETE FROM bench_filler WHERE i % 10 = 0" # the class changed things
  start=$(now)
  installer demo reset default >/dev/null
  echo "$(since "$start")" >>"$work/resets.txt"
  rows=$(psql_in -At -d fineract_default -c "SELECT count(*) FROM bench_filler")
  [ "$rows" = 1050000 ] || { echo "reset did not restore the snapshot: $rows rows"; exit 1; }
  echo "demo reset default run $i: $(tail -1 "$work/resets.txt")s"
done

start=$(now)
set +e
installer tenants add --count 12 --prefix student >"$work/add.txt" 2>&1
add_code=$?
set -e
add=$(since "$start")
echo "tenants add --count 12: exit $add_code in ${add}s"

start=$(now)
installer uninstall --purge --yes >/dev/null
installer install --answers "$work/answers.yaml" --yes -o json >"$work/reinstall.json" || { tail -5 "$work/reinstall.json"; exit 1; }
reinstall=$(since "$start")
echo "uninstall --purge + install: ${reinstall}s"

{
  echo "# classroom reset: demo reset of a 1 GB tenant vs uninstall --purge + install (demo, group core, lab images)"
  bench_machine
  echo "tenant database: $size bytes (fineract_default filled with bench_filler)"
  echo
  echo "first demo install, seconds: $first_install"
  echo "demo snapshot of the 1 GB tenant, seconds: $snapshot"
  echo "demo reset of the 1 GB tenant, seconds per run:"
  cat "$work/resets.txt"
  echo "uninstall --purge + install of the demo, seconds: $reinstall"
  echo "tenants add --count 12, seconds: $add (exit $add_code)"
  if [ "$add_code" != 0 ]; then
    echo "  it stopped with:"
    grep -E '✗|error' "$work/add.txt" | head -3 | sed 's/^/    /'
  fi
  echo
  sort -n "$work/resets.txt" | awk -v re="$reinstall" 'NF {v[++n]=$1; s+=$1} END {
      med = n % 2 ? v[(n+1)/2] : (v[n/2]+v[n/2+1])/2
      printf "reset: mean %.2f s = %.1f %% of a reinstall, median %.2f s = %.1f %% (goal: under 10 %%)\n", s/n, 100*s/n/re, med, 100*med/re }'
  echo
  echo "Fineract here is the lab stand-in ($fineract_image): it starts in seconds and makes a new"
  echo "tenant's tables at once. The real image creates them with Liquibase when it starts"
  echo "(TenantDatabaseUpgradeService), one tenant after the other, so on it \`tenants add\` takes"
  echo "minutes more; a reset does not restart Fineract, so its figure holds for the real image."
} >bench/tenants.txt
cat bench/tenants.txt
