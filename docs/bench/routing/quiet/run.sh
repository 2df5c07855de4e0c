#!/bin/bash
# Interleaved before (f394e63: the code before issue #14's routing work, /tmp/rt-before) / after
# (main at a88babb, /tmp/rt-after) runs of each checkout's own scripts/bench_routing.py, on an
# otherwise idle machine (no helper running tests); the load before and after each run goes to
# uptime.txt. Python: main's .venv, each checkout's src on PYTHONPATH.
OUT=/work/main/docs/bench/routing/quiet
PY=/work/main/.venv/bin/python
run() {  # side query rep
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/rt-before; [ $1 = after ] && dir=/tmp/rt-after
  (cd $dir && PYTHONPATH=$dir/src $PY scripts/bench_routing.py 1000 5 $2 > $OUT/$1-$2-$3.json 2>/tmp/rt_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
run before catalog ${REP:-1}
run after catalog ${REP:-1}
run after select1 ${REP:-1}
run before select1 ${REP:-1}
