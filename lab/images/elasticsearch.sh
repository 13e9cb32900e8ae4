#!/usr/bin/env bash
# Builds the lab image for the assets' Elasticsearch reference
# (docker.elastic.co/elasticsearch/elasticsearch:...): a STAND-IN, not
# Elasticsearch. Elastic's image cannot be fetched where the lab runs, so the
# image runs lab/standin/elasticsearch (its package documentation lists the
# contract it honours and what it cannot prove).
#
# As in the real image (elastic/elasticsearch
# distribution/docker/src/docker/dockerfiles/default/Dockerfile): user
# elasticsearch 1000:1000, also in group 0; /usr/share/elasticsearch with
# bin, config, data, logs and plugins given to 1000:0 and group-writable;
# USER 1000:0; WORKDIR /usr/share/elasticsearch; EXPOSE 9200 9300;
# ENTRYPOINT tini -- /usr/local/bin/docker-entrypoint.sh, CMD eswrapper; curl
# for the assets' healthcheck.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/elasticsearch)"
ref="$(lab_ref elasticsearch)"
hash="$(lab_standin_hash "$ref" elasticsearch)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary elasticsearch "$hash")"
lab_rootfs_begin elasticsearch
root="$LAB_ROOT"
lab_apt_install "$root" curl ca-certificates tini
lab_elastic_user "$root" elasticsearch
home="$root/usr/share/elasticsearch"
install -d -m 0775 -o 1000 -g 0 "$home" "$home/bin" "$home/config" "$home/data" "$home/logs" "$home/plugins"
install -m 0755 "$bin" "$home/bin/elasticsearch"
install -m 0755 "$LAB_IMAGES_DIR/files/elasticsearch/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV ELASTIC_CONTAINER=true PATH=/usr/share/elasticsearch/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  "USER 1000:0" \
  "WORKDIR /usr/share/elasticsearch" \
  "EXPOSE 9200 9300" \
  'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"]' \
  'CMD ["eswrapper"]'
