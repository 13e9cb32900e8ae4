#!/usr/bin/env bash
# Builds the lab image for the assets' Logstash reference
# (docker.elastic.co/logstash/logstash:...): a STAND-IN, not Logstash.
# Elastic's image cannot be fetched where the lab runs, so the image runs
# lab/standin/logstash as /usr/share/logstash/bin/logstash (its package
# documentation lists the contract it honours and what it cannot prove).
#
# As in the real image (elastic/logstash v8.19.19
# docker/templates/Dockerfile.erb): user logstash 1000:1000; files
# logstash:root and group-writable; ENV PATH with /usr/share/logstash/bin;
# WORKDIR /usr/share/logstash; USER 1000; EXPOSE 9600 5044; ENTRYPOINT
# /usr/local/bin/docker-entrypoint (the installer replaces it); curl for the
# assets' healthcheck.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/logstash)"
ref="$(lab_ref logstash)"
hash="$(lab_standin_hash "$ref" logstash)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary logstash "$hash")"
lab_rootfs_begin logstash
root="$LAB_ROOT"
lab_apt_install "$root" curl ca-certificates
lab_elastic_user "$root" logstash
home="$root/usr/share/logstash"
install -d -m 2775 -o 1000 -g 0 "$home" "$home/bin" "$home/config" "$home/data" "$home/logs" "$home/pipeline"
install -m 0755 "$bin" "$home/bin/logstash"
printf '#!/bin/sh\n# Lab STAND-IN image for Logstash.\nexec /usr/share/logstash/bin/logstash "$@"\n' >"$root/usr/local/bin/docker-entrypoint"
chmod 0755 "$root/usr/local/bin/docker-entrypoint"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV ELASTIC_CONTAINER=true PATH=/usr/share/logstash/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  "USER 1000" \
  "WORKDIR /usr/share/logstash" \
  "EXPOSE 9600 5044" \
  'ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]'
