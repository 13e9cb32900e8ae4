# Shared by the bench scripts: the answers of a lab install.

# bench_answers FILE PROJECT HTTPS_PORT HTTP_PORT OCTET INSTALL_DIR writes a
# demo, core-only answers file whose networks are 10.231.OCTET.0/24 split in
# four, so a bench stack never meets the test stacks.
bench_answers() {
  local file=$1 project=$2 https=$3 http=$4 octet=$5 dir=$6
  cat >"$file" <<EOF2
version: 1
profile: demo
host: {hostname: fineract.local}
vault: {key_shares: 1, key_threshold: 1, custody: file}
certificates: {source: generate}
gateway: {https_port: $https, http_port: $http, allow_tls12: false}
network:
  dmz: {name: $project-dmz, subnet: 10.231.$octet.0/26}
  app: {name: $project-app, subnet: 10.231.$octet.64/26}
  data: {name: $project-data, subnet: 10.231.$octet.128/26}
  monitoring: {name: $project-mon, subnet: 10.231.$octet.192/26}
groups: [core]
install_dir: $dir
images: {source: registry}
EOF2
}

# bench_machine prints what the figures were measured on.
bench_machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "docker: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'); $(openssl version | cut -d' ' -f1-2)"
}
