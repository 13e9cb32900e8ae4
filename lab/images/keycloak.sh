#!/usr/bin/env bash
# Builds the lab image for the assets' Keycloak reference
# (quay.io/keycloak/keycloak:...): a STAND-IN, not Keycloak. Keycloak's
# image cannot be fetched where the lab runs and Debian does not package
# Keycloak, so the image runs lab/standin/keycloak, a small Go program that
# takes Keycloak's configuration as the assets give it (kc.sh command line,
# KC_* variables, the --config-file with db-password and
# bootstrap-admin-password, realm files in /opt/keycloak/data/import), keeps
# its state in PostgreSQL over verified TLS, and serves the OIDC endpoints,
# a login form, an admin API subset and the management health port.
#
# As in the real image (keycloak/keycloak quarkus/container/Dockerfile):
# USER 1000, /opt/keycloak owned by 1000:0 and group-writable for arbitrary
# uids in group 0, ENTRYPOINT /opt/keycloak/bin/kc.sh, EXPOSE 8080 8443 9000,
# and bash (the assets' healthcheck uses bash's /dev/tcp). kc.sh is a bash
# script here too; it runs the stand-in from /opt/keycloak/lib. Cached by
# content hash (Go sources, go.mod, go.sum, the Go version).
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/keycloak)"
ref="$(lab_ref keycloak)"
hash="$(lab_standin_hash "$ref" keycloak)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary keycloak "$hash")"
lab_rootfs_begin keycloak
root="$LAB_ROOT"
install -d -m 0775 "$root/opt/keycloak" "$root/opt/keycloak/bin" "$root/opt/keycloak/lib" \
  "$root/opt/keycloak/conf" "$root/opt/keycloak/data" "$root/opt/keycloak/data/import"
install -m 0775 "$bin" "$root/opt/keycloak/lib/keycloak-standin"
cat >"$root/opt/keycloak/bin/kc.sh" <<'KC'
#!/bin/bash
# Keycloak STAND-IN (lab): runs lab/standin/keycloak, not Keycloak.
exec /opt/keycloak/lib/keycloak-standin "$@"
KC
chmod 0775 "$root/opt/keycloak/bin/kc.sh"
chown -R 1000:0 "$root/opt/keycloak"
# The image's user: keycloak, uid 1000, primary group root (0).
printf 'keycloak:x:1000:0:keycloak user:/opt/keycloak:/sbin/nologin\n' >>"$root/etc/passwd"
chmod 1777 "$root/tmp"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "USER 1000" \
  "WORKDIR /opt/keycloak" \
  "EXPOSE 8080 8443 9000" \
  'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]'
