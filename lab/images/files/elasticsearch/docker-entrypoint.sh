#!/bin/bash
# Lab STAND-IN image for Elasticsearch: the real image's entrypoint runs
# Elasticsearch for "eswrapper" (or no argument) and any other command as
# given. The stand-in reads ELASTIC_PASSWORD_FILE itself.
set -euo pipefail
if [[ $# -eq 0 || "$1" == "eswrapper" || "${1:0:1}" == "-" ]]; then
  [[ $# -gt 0 && "$1" == "eswrapper" ]] && shift
  exec /usr/share/elasticsearch/bin/elasticsearch "$@"
fi
exec "$@"
