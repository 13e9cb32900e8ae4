#!/usr/bin/env bash
# A production install with every service group (core, identity, messaging,
# monitoring, logging) on the lab, through the real binary, to a passing
# checklist: its wall time and peak memory. Writes bench/allgroups.txt.
#   bash bench/allgroups.sh      (needs what lab/test.sh sets up)
#
# It runs the end-to-end test that proves that install
# (TestProductionInstallWithPGPKeyHolders: the key holders' shares are
# encrypted to PGP keys, so the install stops once for them and a second run
# finishes), and records what the test measured: the wall time of both runs,
# the sum of every container's peak memory as the engine reports it (an
# upper bound of the stack's peak), and the installer's own peak RSS.
#
# Several services of the lab are stand-ins (lab/README.md): a stand-in's
# memory is not the real service's, so the containers' figure says what the
# lab used, and the memory limits in README's Memory table are what a real
# host needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
out=bench/allgroups.txt
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
FINERACT_REQUIRE_DOCKER=1 FINERACT_BENCH_OUT="$tmp" \
  go test -count=1 -timeout 40m -run '^TestProductionInstallWithPGPKeyHolders$' ./lab/e2e/ >/dev/null
{
  echo "# bash bench/allgroups.sh: production install with every group, real binary, lab images"
  bench_machine
  cat "$tmp"
} >"$out"
cat "$out"
