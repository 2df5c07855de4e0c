#!/bin/bash
# Interleaved before (main at ce94f15, /tmp/ro-before) / after (r-ops2 frozen at b2d11e6, /tmp/ro-after)
# runs of scripts/bench_routing.py (in both, the script given app_role=APP_ROLE, which Cluster requires now); the load before and after each run goes to uptime.txt.
OUT=/work/wt/routing-ops/docs/bench/routing/ops
PY=/work/wt/routing-ops/.venv/bin/python
run() {  # side query rep
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/ro-before; [ $1 = after ] && dir=/tmp/ro-after
  (cd $dir && PYTHONPATH=$dir/src $PY scripts/bench_routing.py 500 4 $2 > $OUT/$1-$2-$3.json 2>/tmp/ro_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
run before catalog ${REP:-1}
run after catalog ${REP:-1}
run after select1 ${REP:-1}
run before select1 ${REP:-1}
