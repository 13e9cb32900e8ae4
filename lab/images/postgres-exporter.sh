#!/usr/bin/env bash
# Builds the lab image for the assets' postgres_exporter reference
# (prometheuscommunity/postgres-exporter:v0.19.1 at the time of writing):
# the REAL exporter, Debian trixie's prometheus-postgres-exporter (0.17.x),
# laid out like the upstream image: /bin/postgres_exporter, busybox's wget
# on PATH (upstream's base is a busybox image, and the assets' healthcheck
# relies on busybox wget's error message), USER nobody (65534), ENTRYPOINT
# /bin/postgres_exporter, EXPOSE 9187.
# Cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

ref="$(lab_ref postgres-exporter)"
hash="$(lab_image_hash "$ref")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
lab_rootfs_begin postgres-exporter
root="$LAB_ROOT"
lab_apt_install "$root" prometheus-postgres-exporter busybox
ln -s prometheus-postgres-exporter "$root/usr/bin/postgres_exporter"
# busybox wget, as in upstream's busybox base (the assets' healthcheck
# relies on its error message for a plain request to the TLS port).
ln -s busybox "$root/usr/bin/wget"
[[ "$(lab_chroot "$root" sh -c 'wget --help 2>&1 || true')" == *BusyBox* ]] || lab_die "wget is not busybox's"
exporter_version="$(lab_pkg_version "$root" prometheus-postgres-exporter)"
lab_chroot "$root" /bin/postgres_exporter --version 2>&1 | head -n1
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV POSTGRES_EXPORTER_DEBIAN_VERSION=$exporter_version" \
  "USER nobody" \
  "EXPOSE 9187" \
  'ENTRYPOINT ["/bin/postgres_exporter"]'
