#!/bin/bash
# Interleaved before (f394e63, /tmp/rs-old) / after (routing-safety frozen at its commit, /tmp/rs-new)
# runs of scripts/bench_routing.py.
OUT=/work/wt/routing-safety/docs/bench/routing/safety
PY=/work/wt/routing-safety/.venv/bin/python
run() {  # side query rep
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/rs-old; [ $1 = after ] && dir=/tmp/rs-new
  (cd $dir && PYTHONPATH=$dir/src $PY scripts/bench_routing.py 1000 5 $2 > $OUT/$1-$2-$3.json 2>/tmp/rs_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
run after catalog 1
run before select1 1
run after select1 1
run after catalog 2
run before catalog 2
run after select1 2
run before select1 2
