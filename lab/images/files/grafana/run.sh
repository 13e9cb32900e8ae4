#!/bin/bash -e
# Lab STAND-IN for grafana/grafana's /run.sh (packaging/docker/run.sh): the
# same preparation, then lab/standin/grafana instead of `grafana server`.
# Not Grafana.
: "${GF_PATHS_CONFIG:=/etc/grafana/grafana.ini}"
: "${GF_PATHS_DATA:=/var/lib/grafana}"
: "${GF_PATHS_HOME:=/usr/share/grafana}"
: "${GF_PATHS_LOGS:=/var/log/grafana}"
: "${GF_PATHS_PLUGINS:=/var/lib/grafana/plugins}"
: "${GF_PATHS_PROVISIONING:=/etc/grafana/provisioning}"
export GF_PATHS_CONFIG GF_PATHS_DATA GF_PATHS_HOME GF_PATHS_LOGS GF_PATHS_PLUGINS GF_PATHS_PROVISIONING

if [ ! -r "$GF_PATHS_CONFIG" ]; then
  echo "GF_PATHS_CONFIG='$GF_PATHS_CONFIG' is not readable."
fi
if [ ! -w "$GF_PATHS_DATA" ]; then
  echo "GF_PATHS_DATA='$GF_PATHS_DATA' is not writable."
fi
if [ ! -r "$GF_PATHS_HOME" ]; then
  echo "GF_PATHS_HOME='$GF_PATHS_HOME' is not readable."
fi
if [ ! -d "$GF_PATHS_PLUGINS" ]; then
  mkdir "$GF_PATHS_PLUGINS"
fi

# Each GF_X__FILE=path becomes GF_X=<content of path>; setting both is an
# error, as upstream.
for name in $(env | grep -o '^GF_[^=]*__FILE=.' | sed 's/__FILE=.$//'); do
  file_var="${name}__FILE"
  if [ -n "${!name}" ]; then
    echo >&2 "ERROR: Both $name and $file_var are set (but are exclusive)"
    exit 1
  fi
  echo "Getting secret $name from ${!file_var}"
  export "$name"="$(<"${!file_var}")"
  unset "$file_var"
done

export HOME="$GF_PATHS_HOME"
exec /usr/share/grafana/bin/grafana-standin "$@"
