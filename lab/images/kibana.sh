#!/usr/bin/env bash
# Builds the lab image for the assets' Kibana reference
# (docker.elastic.co/kibana/kibana:...): a STAND-IN, not Kibana. Elastic's
# image cannot be fetched where the lab runs, so the image runs
# lab/standin/kibana as /usr/local/bin/kibana-docker (its package
# documentation lists the contract it honours and what it cannot prove).
#
# As in the real image (elastic/kibana
# src/dev/build/tasks/os_packages/docker_generator/templates/base/Dockerfile):
# user kibana 1000:1000, also in group 0; /usr/share/kibana given to 1000:0
# and group-writable; USER 1000; WORKDIR /usr/share/kibana; EXPOSE 5601;
# ENTRYPOINT ["/bin/tini", "--"], CMD ["/usr/local/bin/kibana-docker"]; curl
# for the assets' healthcheck.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/kibana)"
ref="$(lab_ref kibana)"
hash="$(lab_standin_hash "$ref" kibana)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary kibana "$hash")"
lab_rootfs_begin kibana
root="$LAB_ROOT"
lab_apt_install "$root" curl ca-certificates tini
lab_elastic_user "$root" kibana
home="$root/usr/share/kibana"
install -d -m 2775 -o 1000 -g 0 "$home" "$home/config" "$home/data"
install -m 0755 "$bin" "$root/usr/local/bin/kibana-docker"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV ELASTIC_CONTAINER=true" \
  "USER 1000" \
  "WORKDIR /usr/share/kibana" \
  "EXPOSE 5601" \
  'ENTRYPOINT ["/bin/tini", "--"]' \
  'CMD ["/usr/local/bin/kibana-docker"]'
