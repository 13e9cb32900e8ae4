#!/usr/bin/env bash
# Builds the lab image for the assets' nginx reference (nginx:1.30.4-trixie
# at the time of writing): REAL nginx, Debian trixie's package (1.26.x), laid
# out like the official image (lib/nginx.sh): nginx = 101:101,
# /etc/nginx/nginx.conf + conf.d/, /usr/share/nginx/html, /var/cache/nginx,
# pid /run/nginx.pid, logs to stdout/stderr, curl and envsubst as in the
# official Debian variant, ENTRYPOINT /docker-entrypoint.sh,
# CMD nginx -g 'daemon off;', STOPSIGNAL SIGQUIT. Cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/nginx.sh
source "$LAB_LIB_DIR/nginx.sh"

ref="$(lab_ref gateway)"
hash="$(lab_image_hash "$ref" "$LAB_LIB_DIR/nginx.sh" "$LAB_IMAGES_DIR/files/nginx")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
# curl: the official Debian image has it (and the gateway's healthcheck uses it).
lab_nginx_rootfs nginx curl ca-certificates
root="$LAB_ROOT"
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV NGINX_VERSION=$LAB_NGINX_VERSION" \
  'ENTRYPOINT ["/docker-entrypoint.sh"]' \
  "EXPOSE 80" \
  "STOPSIGNAL SIGQUIT" \
  'CMD ["nginx", "-g", "daemon off;"]'
