#!/usr/bin/env bash
# Builds lab.fineract-installer.invalid/fineract-standin:v2-broken (the
# reference is FineractV2Broken in lab/labimages/upgrade.go): a STAND-IN
# for a bad Fineract release, not Fineract, under a lab-only reference (the
# .invalid domain cannot resolve) that no upstream tag can be mistaken for.
#
# It is the Fineract stand-in of fineract.sh built as release v2-broken:
# at start it applies v2's migration (lab_rows.note_length, recorded in
# databasechangelog), then its actuator health stays DOWN (503) forever,
# so the healthcheck the assets render never passes. An upgrade to it must
# roll back, and put back the database the migration changed: v1 started on
# the migrated database would come up (Liquibase ignores change sets it
# does not know) but fail to write rows (note_length is NOT NULL).
#
# What it cannot prove: the ways a real release fails (a crash loop, a
# migration that fails halfway, a slow start that ends healthy); only the
# one failure it is built for, after a completed migration.
set -euo pipefail
LAB_NAME="$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"
# shellcheck source=lib/standin.sh
source "$LAB_LIB_DIR/standin.sh"
# shellcheck source=lib/fineract.sh
source "$LAB_LIB_DIR/fineract.sh"

lab_fineract_image "$(lab_labimages_ref FineractV2Broken)" v2-broken
