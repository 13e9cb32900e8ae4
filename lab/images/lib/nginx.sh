# shellcheck shell=bash
# Shared by lab/images/nginx.sh and lab/images/web-app.sh (sourced after
# debian.sh): Debian's nginx laid out like the official nginx image.
#
# lab_nginx_rootfs NAME PACKAGE... sets LAB_ROOT to a rootfs with nginx,
# gettext-base (envsubst) and the extra packages, and:
#   - user and group nginx = 101:101 (the official image's ids);
#   - /etc/nginx/nginx.conf and conf.d/default.conf as in the official image
#     (user nginx, pid /run/nginx.pid, temporary files under
#     /var/cache/nginx, port 80 serving /usr/share/nginx/html);
#   - Debian's sites-*, modules-* and snippets left out of the default config;
#   - /var/log/nginx/access.log -> /dev/stdout, error.log -> /dev/stderr;
#   - /docker-entrypoint.sh and an empty /docker-entrypoint.d/.
lab_nginx_rootfs() {
  local name="$1" files="$LAB_IMAGES_DIR/files/nginx" root
  shift
  lab_rootfs_begin "$name"
  root="$LAB_ROOT"
  lab_chroot "$root" groupadd --system --gid 101 nginx
  lab_chroot "$root" useradd --system --gid nginx --no-create-home --home /nonexistent \
    --comment "nginx user" --shell /bin/false --uid 101 nginx
  lab_apt_install "$root" nginx gettext-base "$@"
  install -m 0644 "$files/nginx.conf" "$root/etc/nginx/nginx.conf"
  install -d -m 0755 "$root/etc/nginx/conf.d" "$root/var/cache/nginx" "$root/docker-entrypoint.d" "$root/usr/share/nginx/html"
  install -m 0644 "$files/default.conf" "$root/etc/nginx/conf.d/default.conf"
  install -m 0644 "$files/50x.html" "$root/usr/share/nginx/html/50x.html"
  install -m 0755 "$files/docker-entrypoint.sh" "$root/docker-entrypoint.sh"
  chmod 0755 "$root/var/log/nginx"
  ln -sfn /dev/stdout "$root/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$root/var/log/nginx/error.log"
  lab_chroot "$root" nginx -t -q
  # shellcheck disable=SC2034 # for the calling script
  LAB_NGINX_VERSION="$(lab_pkg_version "$root" nginx)"
}
