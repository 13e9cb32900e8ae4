#!/usr/bin/env bash
# Builds the lab image for the assets' Prometheus reference
# (prom/prometheus:v3.13.2 at the time of writing): REAL Prometheus, Debian
# trixie's package (Prometheus 2.53.x; Debian has no 3.x), laid out like the
# upstream image: /bin/prometheus and /bin/promtool, a default
# /etc/prometheus/prometheus.yml that scrapes Prometheus itself, /prometheus
# owned by nobody (65534:65534) as WORKDIR and VOLUME, USER nobody,
# ENTRYPOINT /bin/prometheus, CMD --config.file=/etc/prometheus/prometheus.yml
# --storage.tsdb.path=/prometheus, EXPOSE 9090. Cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

FILES="$LAB_IMAGES_DIR/files/prometheus"
ref="$(lab_ref prometheus)"
hash="$(lab_image_hash "$ref" "$FILES")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
lab_rootfs_begin prometheus
root="$LAB_ROOT"
lab_apt_install "$root" prometheus
# /bin is /usr/bin in trixie (merged /usr): /bin/prometheus and
# /bin/promtool exist as in the upstream image.
[[ -x "$root/usr/bin/prometheus" && -x "$root/usr/bin/promtool" ]] || lab_die "prometheus binaries missing"
install -m 0644 "$FILES/prometheus.yml" "$root/etc/prometheus/prometheus.yml"
lab_chroot "$root" install -d -o 65534 -g 65534 -m 0775 /prometheus
chown -R 65534:65534 "$root/etc/prometheus"
prom_version="$(lab_pkg_version "$root" prometheus)"
lab_chroot "$root" prometheus --version | head -n1
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV PROMETHEUS_DEBIAN_VERSION=$prom_version" \
  "USER nobody" \
  "EXPOSE 9090" \
  "VOLUME /prometheus" \
  "WORKDIR /prometheus" \
  'ENTRYPOINT ["/bin/prometheus"]' \
  'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
