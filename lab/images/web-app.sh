#!/usr/bin/env bash
# Builds the lab image for the assets' Mifos X web app reference
# (openmf/web-app:dev-...): a STAND-IN. The real image is the Angular app
# built into nginx's web root of an Alpine nginx image; here Debian's nginx
# (the same base as the lab nginx image, lib/nginx.sh) serves the small static
# page in lab/standin/web-app/html instead of the app.
#
# As in the real image: nginx = 101:101, the files in /usr/share/nginx/html
# with assets/env.js and assets/env.template.js, busybox wget on PATH
# (Alpine's), EXPOSE 80, and the command that renders env.js from the
# template with envsubst and then runs nginx. Cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/nginx.sh
source "$LAB_LIB_DIR/nginx.sh"

HTML="$LAB_REPO/lab/standin/web-app/html"
ref="$(lab_ref web-app)"
hash="$(lab_image_hash "$ref" "$LAB_LIB_DIR/nginx.sh" "$LAB_IMAGES_DIR/files/nginx" "$HTML")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
lab_nginx_rootfs web-app busybox
root="$LAB_ROOT"
# Alpine's busybox provides wget (the assets' healthcheck uses it).
ln -s busybox "$root/usr/bin/wget"
[[ "$(lab_chroot "$root" sh -c 'wget --help 2>&1 || true')" == *BusyBox* ]] || lab_die "wget is not busybox's"
# The stand-in's pages replace nginx's welcome page.
rm -f "$root/usr/share/nginx/html/index.html"
cp -R "$HTML/." "$root/usr/share/nginx/html/"
chown -R 0:0 "$root/usr/share/nginx/html"
find "$root/usr/share/nginx/html" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV NGINX_VERSION=$LAB_NGINX_VERSION" \
  'ENTRYPOINT ["/docker-entrypoint.sh"]' \
  "EXPOSE 80" \
  "STOPSIGNAL SIGQUIT" \
  'CMD ["/bin/sh", "-c", "envsubst < /usr/share/nginx/html/assets/env.template.js > /usr/share/nginx/html/assets/env.js && exec nginx -g '"'"'daemon off;'"'"'"]'
