# The branch's bench_routing.py with the router's COMMIT not carrying the reset (plain COMMIT,
# the session reset on return): to tell the fold's cost from the reset's.
import runpy, sys
from advisoros_db import pooler
def pool_commit(configured, choice=None):
    def commit(conn):
        conn.commit()
        return False
    return commit
pooler.pool_commit = pool_commit
sys.argv = ["scripts/bench_routing.py", *sys.argv[1:]]
runpy.run_path("scripts/bench_routing.py", run_name="__main__")
