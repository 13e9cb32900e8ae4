#!/usr/bin/env bash
# Builds the lab image for the assets' Fineract reference (openmf/fineract:...):
# a STAND-IN, not Fineract. Fineract's image cannot be fetched where the lab
# runs, so the image runs lab/standin/fineract, a small Go program that reads
# Fineract's configuration as the assets give it (FINERACT_* variables, the
# Spring config tree of secrets, the PEM SSL bundle), serves HTTPS with
# actuator health, keeps users, passwords and tenants as Fineract does
# (m_appuser, POST /authentication, GET/PUT /users with Fineract's checks,
# the tenant store with encrypted passwords, tenants migrated only at
# start), records its schema changes as Liquibase change sets in
# databasechangelog, and talks to PostgreSQL with each connection's own
# settings: verified TLS, until Fineract's first start replays its
# changelog 0005 on the tenant connections (the installer sets them back).
#
# This is release v1 of the stand-in, the one the installer deploys;
# fineract-v2.sh and fineract-v2-broken.sh build the releases the upgrade
# tests move to. The image and its tools are described in lib/fineract.sh.
#
# What it cannot prove: that the real Fineract starts, migrates or serves
# with this configuration; its schema is a few of Fineract's tables, and
# its changelog is the stand-in's own, not Fineract's.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"
# shellcheck source=lib/fineract.sh
source "$LAB_LIB_DIR/fineract.sh"

lab_fineract_image "$(lab_ref fineract)" v1
