#!/usr/bin/env bash
# Builds the lab image for the assets' Redis reference (redis:8.10.1 at the
# time of writing): REAL Redis, Debian trixie's redis-server and redis-tools
# (Redis 8.0.x, built with TLS), laid out like the Docker library image:
# redis = 999:999, WORKDIR and VOLUME /data owned by redis, redis-server and
# redis-cli on PATH, ENTRYPOINT docker-entrypoint.sh
# (files/redis/docker-entrypoint.sh), CMD redis-server, EXPOSE 6379. The
# library image has no /etc/redis, so Debian's (redis:redis, mode 2750, which
# no other uid could enter) is removed; the assets mount their own
# redis.conf there. Cached by content hash.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

FILES="$LAB_IMAGES_DIR/files/redis"
ref="$(lab_ref redis)"
hash="$(lab_image_hash "$ref" "$FILES")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
lab_rootfs_begin redis
root="$LAB_ROOT"
lab_chroot "$root" groupadd -r -g 999 redis
lab_chroot "$root" useradd -r -g redis -u 999 --home-dir /data --no-create-home --shell /usr/sbin/nologin redis
lab_apt_install "$root" redis-server redis-tools
lab_chroot "$root" install -d -o redis -g redis -m 0755 /data
rm -rf "$root/etc/redis"
install -m 0755 "$FILES/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
redis_version="$(lab_pkg_version "$root" redis-server)"
lab_chroot "$root" redis-server --version
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV REDIS_VERSION=$redis_version" \
  "VOLUME /data" \
  "WORKDIR /data" \
  'ENTRYPOINT ["docker-entrypoint.sh"]' \
  "EXPOSE 6379" \
  'CMD ["redis-server"]'
