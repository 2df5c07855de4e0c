#!/usr/bin/env bash
# Install, start the embedded cluster (primary + 2 streaming replicas), migrate, load demo data,
# and take a short tour of what the system does.
source "$(dirname "$0")/bootstrap.sh"
advisoros-db up --replicas 2 --demo
advisoros-db tour
