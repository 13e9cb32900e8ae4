#!/usr/bin/env bash
# Builds the lab image for the assets' Fineract reference (openmf/fineract:...):
# a STAND-IN, not Fineract. Fineract's image cannot be fetched where the lab
# runs, so the image runs lab/standin/fineract, a small Go program that reads
# Fineract's configuration as the assets give it (FINERACT_* variables, the
# Spring config tree of secrets, the PEM SSL bundle), serves HTTPS with
# actuator health, keeps users, passwords and tenants as Fineract does
# (m_appuser, POST /authentication, GET/PUT /users with Fineract's checks,
# the tenant store with encrypted passwords, tenants migrated only at
# start), and talks to PostgreSQL with each connection's own settings:
# verified TLS, until Fineract's first start replays its changelog 0005 on
# the tenant connections (the installer sets them back).
#
# As in the real image (Jib on an Alpine JDK image): runs as nobody:nogroup
# (65534:65534), EXPOSE 8080 8443, /tmp world-writable (user.home), and the
# tools the assets' healthcheck uses: /bin/sh, grep and a wget that speaks
# HTTPS with TLS 1.3 (GNU wget here, busybox wget + ssl_client upstream).
# The program is /app/fineract-standin, built static (CGO_ENABLED=0) and
# cached with the image by content hash (its Go sources, go.mod, go.sum and
# the Go version).
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/fineract)"
ref="$(lab_ref fineract)"
hash="$(lab_standin_hash "$ref" fineract)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary fineract "$hash")"
lab_rootfs_begin fineract
root="$LAB_ROOT"
lab_apt_install "$root" wget ca-certificates
install -d -m 0755 "$root/app"
install -m 0755 "$bin" "$root/app/fineract-standin"
chmod 1777 "$root/tmp"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "USER nobody:nogroup" \
  "WORKDIR /" \
  "EXPOSE 8080 8443" \
  'ENTRYPOINT ["/app/fineract-standin"]'
