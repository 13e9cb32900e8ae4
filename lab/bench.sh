#!/usr/bin/env bash
# Runs the benchmarks against the local Docker engine and writes the figures
# to bench/*.txt. Needs what lab/test.sh sets up (run it once first).
#   bash lab/bench.sh            # all benchmarks
#   bash lab/bench.sh compose    # one set: compose, install, backup, allgroups, tenants, upgrade, pitr
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export FINERACT_REQUIRE_DOCKER=1

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "docker: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo none)"
  echo "docker-compose: $(docker-compose version --short 2>/dev/null || echo 'not installed')"
  echo "go: $(go env GOVERSION)"
}

bench_compose() {
  command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null || true
  local out=bench/compose.txt raw
  raw=$(go test ./compose/ -run '^$' -bench . -benchtime 5x -count 3)
  {
    echo "# compose engine: ten independent small services"
    machine
    echo
    echo "$raw" | grep '^Benchmark'
    echo
    echo "$raw" | awk '
      /^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name); sum[name]+=$3; n[name]++ }
      END {
        for (k in sum) avg[k]=sum[k]/n[k]/1e6
        printf "mean ms: apply from scratch %.0f, docker-compose up -d %.0f, unchanged re-apply %.1f, docker-compose re-up %.0f\n",
          avg["BenchmarkApplyFromScratch"], avg["BenchmarkDockerComposeUp"], avg["BenchmarkReapplyUnchanged"], avg["BenchmarkDockerComposeReup"]
        if (avg["BenchmarkDockerComposeUp"] > 0)
          printf "ratio from scratch (installer / docker-compose): %.2f\nratio unchanged (installer / docker-compose): %.3f\n",
            avg["BenchmarkApplyFromScratch"]/avg["BenchmarkDockerComposeUp"], avg["BenchmarkReapplyUnchanged"]/avg["BenchmarkDockerComposeReup"]
      }'
    echo
    echo "The installer's apply waits until every service is ready (here: running for 500 ms, the"
    echo "guard against containers that die right after starting); docker-compose up -d does not wait."
  } >"$out"
  cat "$out"
}

what=${1:-all}
case $what in
  compose) bench_compose ;;
  install | backup | allgroups | tenants | upgrade | pitr) bash "bench/$what.sh" ;;
  all)
    bench_compose
    bash bench/install.sh
    bash bench/backup.sh
    bash bench/allgroups.sh
    bash bench/tenants.sh
    bash bench/upgrade.sh
    bash bench/pitr.sh
    ;;
  *) echo "unknown benchmark set: $what" >&2; exit 2 ;;
esac
