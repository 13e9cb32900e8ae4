#!/usr/bin/env bash
# Builds lab.fineract-installer.invalid/fineract-standin:v2 (the reference
# is FineractV2 in lab/labimages/upgrade.go): a STAND-IN for a newer
# Fineract release, not Fineract, and under a lab-only reference (the
# .invalid domain cannot resolve) that no upstream tag can be mistaken for.
#
# It is the Fineract stand-in of fineract.sh built as release v2: at start
# it applies, after v1's change sets, one more tenant change set that
# changes schema and data (lab_rows gets note_length, filled for the rows
# already there, then NOT NULL), records it in databasechangelog as
# Liquibase does, and serves the column as noteLength in /lab/rows. It
# becomes healthy like v1. The upgrade tests move v1 to it and check that
# the rows are kept and migrated.
#
# What it cannot prove: how long the real Fineract's migrations take, that
# they succeed on a given database, or that a real release's migration can
# be undone (no migration can: the way back is the backup). It shows only
# that the installer upgrades, waits and keeps data as the contract says.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"
# shellcheck source=lib/fineract.sh
source "$LAB_LIB_DIR/fineract.sh"

lab_fineract_image "$(lab_labimages_ref FineractV2)" v2
