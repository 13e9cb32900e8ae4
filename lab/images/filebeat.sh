#!/usr/bin/env bash
# Builds the lab image for the assets' Filebeat reference
# (docker.elastic.co/beats/filebeat:...): a STAND-IN, not Filebeat. Elastic's
# image cannot be fetched where the lab runs, so the image runs
# lab/standin/filebeat as /usr/share/filebeat/filebeat (its package
# documentation lists the contract it honours and what it cannot prove).
#
# As in the real image (elastic/beats
# dev-tools/packaging/templates/docker/Dockerfile.tmpl, read at a commit
# before 8.19.19): ENV PATH with /usr/share/filebeat; data and logs
# directories group-writable; user filebeat 1000:1000; WORKDIR
# /usr/share/filebeat; ENTRYPOINT /usr/local/bin/docker-entrypoint (runs
# filebeat when the first argument is a flag), CMD ["-environment",
# "container"]; curl for the assets' healthcheck.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/filebeat)"
ref="$(lab_ref filebeat)"
hash="$(lab_standin_hash "$ref" filebeat)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary filebeat "$hash")"
lab_rootfs_begin filebeat
root="$LAB_ROOT"
lab_apt_install "$root" curl ca-certificates
lab_elastic_user "$root" filebeat
home="$root/usr/share/filebeat"
install -d -m 0755 -o 0 -g 0 "$home"
install -d -m 0770 -o 0 -g 1000 "$home/data" "$home/logs"
install -m 0755 "$bin" "$home/filebeat"
install -m 0755 "$LAB_IMAGES_DIR/files/filebeat/docker-entrypoint" "$root/usr/local/bin/docker-entrypoint"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV ELASTIC_CONTAINER=true PATH=/usr/share/filebeat:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  "USER filebeat" \
  "WORKDIR /usr/share/filebeat" \
  'ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]' \
  'CMD ["-environment", "container"]'
