#!/usr/bin/env bash
# The whole test suite, runnable on a fresh Debian 12 machine as root:
#   1. installs what is missing (Debian's docker.io, busybox-static, staticcheck)
#   2. starts dockerd when no engine answers, and waits for it
#   3. builds the lab images and the Kubernetes control plane (cached by content hash; a rerun takes seconds)
#   4. checks gofmt, go.mod tidiness, go vet and staticcheck, then runs go test -race
# Tests that need the engine fail (never skip) here: FINERACT_REQUIRE_DOCKER=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Each phase's wall time is printed when the next begins, and all of them at
# the end, so a slow phase is visible in every CI log.
phase="" phase_start=$SECONDS phases=()
end_phase() {
  [ -n "$phase" ] || return 0
  phases+=("$(printf '%5ds  %s' $((SECONDS - phase_start)) "$phase")")
  phase=""
}
say() {
  end_phase
  phase="$*" phase_start=$SECONDS
  printf '\n== %s\n' "$*"
}
report_phases() {
  end_phase
  printf '\n== wall time by phase (total %ds)\n' "$SECONDS"
  printf '%s\n' "${phases[@]}"
}
trap report_phases EXIT
die() { printf 'lab/test.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts the Docker engine): sudo bash lab/test.sh"
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo /root/go)/bin"
command -v go >/dev/null || die "Go is not installed; install Go 1.26 or newer from go.dev/dl first"

say "packages"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
# The lab images are made from a static busybox; the dynamic one would need libc.
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
# The PKI tests cross-check certificates with openssl.
command -v openssl >/dev/null || missing+=(openssl)
# The assets tests run `nginx -t` on the rendered gateway configuration.
command -v nginx >/dev/null || missing+=(nginx-light)
# The terminal UI is tested in a real terminal.
command -v tmux >/dev/null || missing+=(tmux)
# The at-rest check is proven on a real LUKS volume where the kernel has device-mapper.
command -v cryptsetup >/dev/null || missing+=(cryptsetup-bin)
# Lab images are built from a Debian rootfs.
command -v debootstrap >/dev/null || missing+=(debootstrap)
# Tenant passwords are decrypted with Fineract's own algorithm, in Java
# (source-file mode needs the JDK's compiler).
command -v java >/dev/null || missing+=(default-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all present"
fi

say "docker engine"
if ! docker info >/dev/null 2>&1; then
  log=/var/log/fineract-lab-dockerd.log
  echo "starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -20 "$log" >&2; die "dockerd did not come up within 60s"; }
fi
docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'

say "lab images"
for script in lab/images/*.sh; do
  [ -e "$script" ] || continue
  echo "-- $script"
  bash "$script"
done

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
[ -z "$unformatted" ] || { echo "$unformatted"; die "gofmt would change the files above: run gofmt -w"; }
echo "clean"

say "go.mod"
# Direct requirements are marked as such and nothing unused is required.
go mod tidy -diff || die "go.mod or go.sum is not tidy: run go mod tidy"
echo "tidy"

say "go vet"
go vet ./...

say "staticcheck"
command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck ./...
echo "clean"

for mod in lab/*/go.mod; do
  [ -e "$mod" ] || continue
  d=$(dirname "$mod")
  say "module $d"
  # Same flags as the lab image build, so the tests reuse its build cache.
  (cd "$d" && CGO_ENABLED=0 go vet ./... && CGO_ENABLED=0 go test -trimpath -count=1 ./...)
done

say "kubernetes control plane"
# kube-apiserver and etcd are built from the Go module proxy once and cached
# by content hash (a cold build takes minutes); building them here keeps
# that out of the tests' time budget and checks the control plane first.
go test -count=1 -timeout 60m -run '^TestKube' ./lab/labtest/

say "go test -race"
export FINERACT_REQUIRE_DOCKER=1 FINERACT_REQUIRE_NGINX=1
go test -race -count=1 -timeout 80m ./...

# These faults take the whole engine (they stop it, or remove lab images
# and load them back from a bundle), so they run alone, after the rest.
say "engine faults, one at a time"
FINERACT_SERIAL_FAULTS=1 go test -race -count=1 -timeout 30m -run '^TestSerial' -v ./lab/e2e/
