#!/usr/bin/env bash
# Builds the lab image for the assets' Kafka reference (apache/kafka:4.1.1 at
# the time of writing): a STAND-IN, not Kafka. Debian does not package Kafka
# and no registry is reachable where the lab runs, so the image runs
# lab/standin/kafka, a small Go program, behind the scripts the installer's
# compose file calls: /opt/kafka/bin/kafka-storage.sh (random-uuid, format)
# and /opt/kafka/bin/kafka-server-start.sh (files/kafka/bin/). It serves
# Kafka's ApiVersions and Metadata requests on the listeners of the rendered
# server.properties, with the PEM key and trust stores and mutual TLS.
#
# As in the real image (apache/kafka docker/jvm/Dockerfile): appuser, uid
# 1000 and group 1000, home /home/appuser, shell /bin/bash (the compose
# file's entrypoint and healthcheck use bash); /opt/kafka, /usr/logs and
# /mnt/shared/config owned by appuser; /var/lib/kafka/data, /etc/kafka and
# /etc/kafka/secrets owned appuser:root and group-writable; USER appuser;
# VOLUME /etc/kafka/secrets, /var/lib/kafka/data, /mnt/shared/config; CMD
# /etc/kafka/docker/run (here a script that says the default start is not
# emulated). The program is built static and cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

FILES="$LAB_IMAGES_DIR/files/kafka"
# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/kafka)"
ref="$(lab_ref kafka)"
hash="$(lab_standin_hash "$ref" kafka)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary kafka "$hash")"
lab_rootfs_begin kafka
root="$LAB_ROOT"
lab_chroot "$root" groupadd -g 1000 appuser
lab_chroot "$root" useradd -u 1000 -g appuser -d /home/appuser -m -s /bin/bash appuser
install -d -m 0755 "$root/opt/kafka/bin" "$root/opt/kafka/libs" "$root/etc/kafka/docker"
install -m 0755 "$bin" "$root/opt/kafka/libs/kafka-standin"
install -m 0755 "$FILES/bin/kafka-storage.sh" "$FILES/bin/kafka-server-start.sh" "$root/opt/kafka/bin/"
install -m 0755 "$FILES/run" "$root/etc/kafka/docker/run"
install -d "$root/var/lib/kafka/data" "$root/etc/kafka/secrets" "$root/usr/logs" "$root/mnt/shared/config"
chown -R 1000:1000 "$root/usr/logs" "$root/opt/kafka" "$root/mnt/shared/config"
chown -R 1000:0 "$root/var/lib/kafka" "$root/etc/kafka/secrets" "$root/etc/kafka"
chmod -R ug+w "$root/etc/kafka" "$root/var/lib/kafka" "$root/etc/kafka/secrets"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "USER appuser" \
  'VOLUME ["/etc/kafka/secrets", "/var/lib/kafka/data", "/mnt/shared/config"]' \
  'CMD ["/etc/kafka/docker/run"]'
