#!/bin/bash
# measure.sh LABEL SRC SCALE: an own embedded cluster (primary + 2 replicas) under /tmp/loader2/LABEL,
# `seed --scale SCALE --measure-limit --json` with the package from SRC, load sampled every 15 s.
label=$1; src=$2; scale=$3
dir=/tmp/loader2/$label; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
export ADVISOROS_HOME=$dir/.advisoros
export PYTHONPATH=$src
B=/work/wt/backup/.venv/bin/advisoros-db
$B up --json > up.json 2> up.err || { echo "up failed"; exit 1; }
(while true; do echo "$(date -u +%T) $(cat /proc/loadavg)" >> load.txt; sleep 15; done) & LP=$!
date -u +%FT%T > start.txt
$B seed --scale "$scale" --measure-limit --json > seed.json 2> seed.err
echo $? > rc.txt
date -u +%FT%T > end.txt
kill $LP
$B down --destroy > down.txt 2>&1
