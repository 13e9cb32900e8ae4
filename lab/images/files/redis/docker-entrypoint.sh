#!/bin/sh
# Entrypoint of the lab Redis image, following the Docker library redis
# image's contract:
#   - a first argument starting with "-" or ending in ".conf" means
#     `redis-server <args>`;
#   - started as root, chown the working directory (/data) to redis and
#     re-run as redis (999:999);
#   - without a config file that sets protected-mode, add
#     --protected-mode no (the container's network is the boundary);
#   - umask 0077 unless one was chosen;
#   - exec the command.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --clear-groups -- "$0" "$@"
fi

if [ "$1" = 'redis-server' ]; then
	doProtectedMode=1
	configFile=
	if [ -f "${2:-}" ]; then
		configFile="$2"
		if grep -q '^protected-mode' "$configFile"; then
			doProtectedMode=
		fi
	fi
	if [ -n "$doProtectedMode" ]; then
		shift # "redis-server"
		if [ -n "$configFile" ]; then
			shift
		fi
		set -- --protected-mode no "$@"
		if [ -n "$configFile" ]; then
			set -- "$configFile" "$@"
		fi
		set -- redis-server "$@"
	fi
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
