#!/usr/bin/env bash
# Builds the lab image for the assets' PostgreSQL reference (postgres:16.15-trixie
# at the time of writing): REAL PostgreSQL from Debian trixie's packages
# (PostgreSQL 17; Debian ships no 16 and the PGDG archive is not reachable),
# behind an entrypoint that follows the Docker library image's contract
# (files/postgres/docker-entrypoint.sh).
#
# Layout as in the library image: user postgres = 999:999, PGDATA
# /var/lib/postgresql/data (a volume, 1777 until the entrypoint makes it
# 0700), /var/run/postgresql 3777, /docker-entrypoint-initdb.d, the server
# binaries (postgres, initdb, pg_ctl, psql, pg_isready, pg_dump, ...) on
# PATH, en_US.UTF-8 locale, STOPSIGNAL SIGINT, ENTRYPOINT
# docker-entrypoint.sh, CMD postgres. Cached by content hash (lib/debian.sh).
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

PG_MAJOR=17
FILES="$LAB_IMAGES_DIR/files/postgres"
ref="$(lab_ref postgres)"
hash="$(lab_image_hash "$ref" "$FILES" "pg=$PG_MAJOR")"
lab_up_to_date "$ref" "$hash" && exit 0

lab_require
lab_lock
lab_up_to_date "$ref" "$hash" && exit 0 # built while we waited
lab_rootfs_begin postgres
root="$LAB_ROOT"

# The library image's ids, created before the packages so they keep them.
lab_chroot "$root" groupadd -r postgres --gid=999
lab_chroot "$root" useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres
lab_chroot "$root" install -d -o postgres -g postgres -m 1777 /var/lib/postgresql

lab_apt_install "$root" postgresql-common locales xz-utils zstd
# No cluster of Debian's own: the entrypoint initialises PGDATA.
sed -ri 's/#(create_main_cluster) .*$/\1 = false/' "$root/etc/postgresql-common/createcluster.conf"
grep -q '^create_main_cluster = false' "$root/etc/postgresql-common/createcluster.conf"
lab_apt_install "$root" "postgresql-$PG_MAJOR"

echo 'en_US.UTF-8 UTF-8' >>"$root/etc/locale.gen"
lab_chroot "$root" locale-gen >/dev/null
[[ "$(lab_chroot "$root" locale -a)" == *en_US.utf8* ]] || lab_die "locale en_US.utf8 missing"

# As in the library image: a database made by initdb listens on every
# address unless its configuration says otherwise.
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$root/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
grep -qF "listen_addresses = '*'" "$root/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"

lab_chroot "$root" install -d -o postgres -g postgres -m 3777 /var/run/postgresql
lab_chroot "$root" install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
install -d -m 0755 "$root/docker-entrypoint-initdb.d"
install -m 0755 "$FILES/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
pg_version="$(lab_pkg_version "$root" "postgresql-$PG_MAJOR")"
lab_chroot "$root" "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" --version
lab_rootfs_finish "$root"

lab_import "$root" "$ref" "$hash" \
  "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:$LAB_PATH" \
  "ENV PG_MAJOR=$PG_MAJOR" \
  "ENV PG_VERSION=$pg_version" \
  "ENV LANG=en_US.utf8" \
  "ENV PGDATA=/var/lib/postgresql/data" \
  "VOLUME /var/lib/postgresql/data" \
  'ENTRYPOINT ["docker-entrypoint.sh"]' \
  "STOPSIGNAL SIGINT" \
  "EXPOSE 5432" \
  'CMD ["postgres"]'
