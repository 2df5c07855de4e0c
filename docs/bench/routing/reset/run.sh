#!/bin/bash
# Interleaved runs of each checkout's own scripts/bench_routing.py, 1000 x 5 per run; the load
# before and after each run goes to uptime.txt. Python: the branch's .venv, each checkout's src
# first on PYTHONPATH.
#   before  main at 473736b (/tmp/rs-before): DISCARD ALL on every return, psycopg's cache emptied
#   after   the branch at 161382a (/tmp/rs-after): the session reset, and on the router's fast path
#           folded into the COMMIT (measured slower, then removed from the branch)
#   nofold  the same tree run through nofold_bench.py: the router commits plainly and the session
#           reset runs on return, which is what the branch ships
# This script ran the first four (11:45-11:51 UTC); run2.sh the next four.
OUT=/work/wt/routing-safety/docs/bench/routing/reset
PY=/work/wt/routing-safety/.venv/bin/python
run() {  # side query rep
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/rs-$1
  (cd $dir && PYTHONPATH=$dir/src $PY scripts/bench_routing.py 1000 5 $2 \
    > $OUT/$1-$2-$3.json 2>/tmp/rs_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
run before catalog 1
run after catalog 1
run after select1 1
run before select1 1
