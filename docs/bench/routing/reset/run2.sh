#!/bin/bash
OUT=/work/wt/routing-safety/docs/bench/routing/reset
PY=/work/wt/routing-safety/.venv/bin/python
run() {  # side query rep script
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/rs-$1; script=scripts/bench_routing.py
  [ $1 = nofold ] && dir=/tmp/rs-after && script=nofold_bench.py
  (cd $dir && PYTHONPATH=$dir/src $PY $script 1000 5 $2 > $OUT/$1-$2-$3.json 2>/tmp/rs_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
run nofold catalog 1
run after catalog 2
run before catalog 2
run nofold select1 1
