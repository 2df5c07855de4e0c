#!/bin/bash
# Interleaved before (main at 473736b: DISCARD ALL on every return, /tmp/rs-before) / after (this
# branch, the session reset, folded into the router's COMMIT, /tmp/rs-after) runs of each
# checkout's own scripts/bench_routing.py; the load before and after each run goes to uptime.txt.
# Python: the branch's .venv, each checkout's src first on PYTHONPATH. Then one run of the
# branch's scripts/bench_tenant_reset.py, which measures DISCARD ALL and the session reset side by
# side in one process.
OUT=/work/wt/routing-safety/docs/bench/routing/reset
PY=/work/wt/routing-safety/.venv/bin/python
run() {  # side query rep
  echo "$(date -u +%H:%M:%S) $1-$2-$3 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  dir=/tmp/rs-$1
  (cd $dir && PYTHONPATH=$dir/src $PY scripts/bench_routing.py ${QUERIES:-1000} ${ROUNDS:-5} $2 \
    > $OUT/$1-$2-$3.json 2>/tmp/rs_bench_$1-$2-$3.err)
  echo "$(date -u +%H:%M:%S) done $1-$2-$3 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
tenant_reset() {  # rep
  echo "$(date -u +%H:%M:%S) tenant-reset-$1 $(cat /proc/loadavg)" >> $OUT/uptime.txt
  (cd /tmp/rs-after && PYTHONPATH=/tmp/rs-after/src $PY scripts/bench_tenant_reset.py \
    ${TR_ITER:-500} ${TR_BLOCKS:-6} > $OUT/tenant-reset-$1.json 2>/tmp/rs_tenant_reset_$1.err)
  echo "$(date -u +%H:%M:%S) done tenant-reset-$1 rc=$? $(cat /proc/loadavg)" >> $OUT/uptime.txt
}
REP=${REP:-1}
case "${1:-routing}" in
  routing)
    run before catalog $REP
    run after catalog $REP
    run after select1 $REP
    run before select1 $REP
    ;;
  tenant) tenant_reset $REP ;;
esac
