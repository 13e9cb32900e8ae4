#!/usr/bin/env bash
# Builds the lab image for the assets' Grafana reference (grafana/grafana:12.4.0
# at the time of writing): a STAND-IN, not Grafana. Debian does not package
# Grafana and no registry is reachable where the lab runs, so the image runs
# lab/standin/grafana, a small Go program, started by a /run.sh that
# prepares the environment as the real one does (files/grafana/run.sh:
# GF_PATHS_* defaults, GF_*__FILE secrets, HOME, the plugins directory). It
# serves /api/health, basic authentication and /login for the admin, the
# provisioned data sources and their health check (a real query to
# Prometheus with the provisioned TLS settings) over HTTPS.
#
# As in the real image (grafana/grafana Dockerfile, packaging/docker/run.sh):
# user grafana, uid 472, group 0; /var/lib/grafana, /var/log/grafana,
# /var/lib/grafana/plugins and /etc/grafana/provisioning owned by it and
# mode 0777; /etc/grafana/grafana.ini readable; /usr/share/grafana/bin
# first on PATH; bash and curl (the compose file's healthcheck uses curl);
# GF_PATHS_* in the environment;
# WORKDIR /usr/share/grafana; USER 472; ENTRYPOINT /run.sh; EXPOSE 3000.
# The program is built static and cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

FILES="$LAB_IMAGES_DIR/files/grafana"
# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"

command -v go >/dev/null || lab_die "go not found (the stand-in is built from lab/standin/grafana)"
ref="$(lab_ref grafana)"
hash="$(lab_standin_hash "$ref" grafana)"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited

bin="$(lab_standin_binary grafana "$hash")"
lab_rootfs_begin grafana
root="$LAB_ROOT"
lab_apt_install "$root" curl ca-certificates
lab_chroot "$root" useradd -r -u 472 -g 0 -d /usr/share/grafana -M -s /usr/sbin/nologin grafana
install -d -m 0755 "$root/usr/share/grafana/bin" "$root/etc/grafana"
install -m 0755 "$bin" "$root/usr/share/grafana/bin/grafana-standin"
install -m 0755 "$FILES/run.sh" "$root/run.sh"
printf '; grafana.ini of the lab stand-in image: settings come from GF_* variables.\n' >"$root/etc/grafana/grafana.ini"
chmod 0644 "$root/etc/grafana/grafana.ini"
install -d "$root/var/lib/grafana/plugins" "$root/var/log/grafana" "$root/etc/grafana/provisioning/datasources" \
  "$root/etc/grafana/provisioning/dashboards" "$root/usr/share/grafana/.aws"
chown -R 472:0 "$root/var/lib/grafana" "$root/var/log/grafana" "$root/etc/grafana/provisioning" "$root/usr/share/grafana/.aws"
chmod -R 0777 "$root/var/lib/grafana" "$root/var/log/grafana" "$root/etc/grafana/provisioning" "$root/usr/share/grafana/.aws"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV PATH=/usr/share/grafana/bin:$LAB_PATH GF_PATHS_CONFIG=/etc/grafana/grafana.ini GF_PATHS_DATA=/var/lib/grafana GF_PATHS_HOME=/usr/share/grafana GF_PATHS_LOGS=/var/log/grafana GF_PATHS_PLUGINS=/var/lib/grafana/plugins GF_PATHS_PROVISIONING=/etc/grafana/provisioning" \
  "WORKDIR /usr/share/grafana" \
  "EXPOSE 3000" \
  "USER 472" \
  'ENTRYPOINT ["/run.sh"]'
