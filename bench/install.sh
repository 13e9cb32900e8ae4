#!/usr/bin/env bash
# Install-to-healthy on the lab: the installer from nothing (PKI, Vault,
# secrets, networks, services, checks) next to Debian's docker-compose
# starting the same rendered files with the same images and waiting until
# every container is healthy. Writes bench/install.txt.
#   bash bench/install.sh [RUNS]      (needs what lab/test.sh sets up)
#
# docker-compose 1.29 (Debian's) does not read three compose-spec fields the
# rendered file uses: the top-level `name`, healthcheck `start_interval` and
# bind `create_host_path`. Its copy drops exactly those; the installer strips
# start_interval itself on engines older than API 1.44, such as this one, so
# both start the same containers with the same healthchecks.
#
# docker-compose cannot initialise Vault, make certificates or deliver
# secrets, so its runs reuse what the installer made: the rendered files,
# certificates and delivered secrets. PostgreSQL's and Fineract's volumes are
# removed before each run, so both initialise the database from nothing.
# Vault comes up sealed there and nothing unseals it (that needs the
# installer), so its "all healthy" counts the other four services and Vault
# running; nothing waits on Vault's health, and the installer's Vault is
# healthy long before its last service, so the critical path is the same.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
runs=${1:-3}
work=$(mktemp -d /tmp/fineract-bench-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
project=fibench
bin=$work/fineract-installer
go build -o "$bin" .
export FINERACT_UNSEAL_PASSPHRASE="bench passphrase for the lab stack"
command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null

bench_answers "$work/answers.yaml" "$project" 19443 19080 120 "$work/stack"
installer() { "$bin" --project "$project" --dir "$work/stack" "$@"; }

# The seconds (with fraction) of an event stream's step boundaries.
steps_table() {
  python3 - "$1" <<'PY'
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s[:26].rstrip('Z')).timestamp()
first, spans = None, {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") != "event": continue
    first = first or t(e["time"])
    s = spans.setdefault(e["step"], {})
    if e["kind"] == "started": s["start"] = t(e["time"])
    if e["kind"] in ("done", "skipped"): s["end"] = t(e["time"])
for step, s in spans.items():
    d = s.get("end", 0) - s.get("start", s.get("end", 0))
    print(f"{step} {d:.3f} {s.get('end', 0) - first:.3f}")
PY
}

# All five containers exist; all but Vault are healthy, Vault runs.
all_healthy() {
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
  [ "$(echo "$ids" | grep -c .)" -eq 5 ] || return 1
  ! docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{.State.Health.Status}}' $ids |
    grep -v '^vault running ' | grep -qv ' running healthy$'
}

# Removes the stack's containers and networks, whoever made them; volumes
# and the install dir stay.
remove_containers() {
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  for n in dmz app data mon; do docker network rm "$project-$n" >/dev/null 2>&1 || true; done
}

now() { date +%s.%N; }
: >"$work/installer.txt"
: >"$work/compose.txt"
for i in $(seq 1 "$runs"); do
  installer uninstall --purge --yes >/dev/null 2>&1 || true
  TIMEFORMAT='%R %U %S'
  { time installer install --answers "$work/answers.yaml" --yes -o json >"$work/events.json"; } 2>"$work/time.txt" ||
    { tail -5 "$work/events.json" "$work/time.txt"; exit 1; }
  read -r wall user sys <"$work/time.txt"
  healthy=$(steps_table "$work/events.json" | awk '$1 == "services" {print $3}')
  echo "$wall $user $sys $healthy" >>"$work/installer.txt"
  steps_table "$work/events.json" >"$work/steps-$i.txt"
  echo "installer run $i: ${wall}s to validated, ${healthy}s to all healthy, CPU ${user}s user + ${sys}s system"

  # docker-compose on the same files.
  sed -e '/^name:/d' -e '/start_interval:/d' -e 's/, bind: {create_host_path: false}//' "$work/stack/compose.yaml" >"$work/stack/compose-v1.yaml"
  dc() { docker-compose -p "$project" -f "$work/stack/compose-v1.yaml" "$@"; }
  remove_containers
  docker volume rm "${project}_postgres-data" "${project}_fineract-home" >/dev/null
  start=$(now)
  dc up -d >"$work/compose-up.log" 2>&1 || { cat "$work/compose-up.log"; exit 1; }
  until all_healthy; do sleep 0.2; done
  end=$(now)
  echo "$start $end" | awk '{printf "%.3f\n", $2 - $1}' >>"$work/compose.txt"
  echo "docker-compose run $i: $(tail -1 "$work/compose.txt")s to all healthy"
  remove_containers
done
installer uninstall --purge --yes >/dev/null 2>&1 || true

{
  echo "# install to all-healthy: the installer vs docker-compose up -d + health wait (group core, lab images)"
  bench_machine
  echo "docker-compose: $(docker-compose version --short)"
  echo "runs: $runs"
  echo
  echo "installer (wall to validated, CPU user, CPU system, wall to all healthy), seconds:"
  cat "$work/installer.txt"
  echo "docker-compose up -d + wait until all healthy (Vault: running, sealed), seconds:"
  cat "$work/compose.txt"
  echo
  echo "mean seconds per installer step (duration):"
  cat "$work"/steps-*.txt | awk '{d[$1]+=$2; n[$1]++} END {for (k in d) printf "  %-13s %7.3f\n", k, d[k]/n[k]}' | sort -k2 -rn
  echo
  paste "$work/installer.txt" "$work/compose.txt" | awk -v runs="$runs" '
    {w+=$1; u+=$2; s+=$3; h+=$4; c+=$5}
    END {
      printf "mean: installer %.1f s to all healthy (%.1f s to validated); docker-compose %.1f s to all healthy\n", h/runs, w/runs, c/runs
      printf "ratio to all healthy (installer / docker-compose): %.2f\n", (h/runs)/(c/runs)
      printf "installer CPU time: %.2f s per install (user %.2f + system %.2f)\n", (u+s)/runs, u/runs, s/runs
    }'
  cat "$work"/steps-*.txt | awk -v runs="$runs" '
    $1 != "services" && $1 != "vault-start" && $1 != "images" {own+=$2}
    END {printf "installer time outside waiting on containers (all steps but vault-start and services): %.2f s per install\n", own/runs}'
  echo
  echo "Both end on the engine's own healthcheck probes: on this engine (API 1.41, no"
  echo "start_interval) a container's first probe runs one full interval after it starts"
  echo "(postgres 10 s, web-app and gateway 15 s, fineract 30 s). docker-compose starts a"
  echo "service_healthy dependent only after that probe; the installer runs the healthcheck"
  echo "command itself every second and starts dependents once it passes, so Fineract starts"
  echo "as soon as PostgreSQL answers and the gateway as soon as the web app does."
} >bench/install.txt
cat bench/install.txt
