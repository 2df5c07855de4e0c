"""`advisoros-db` and `python -m advisoros_db`: the command line, or one line naming the extra
it needs when it was installed without it (`pip install 'advisoros-db[cli]'`)."""

from __future__ import annotations

import sys

from advisoros_db.extras import MissingExtra


def main() -> None:
    try:
        from advisoros_db.cli.app import main as run
    except MissingExtra as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    run()


if __name__ == "__main__":
    main()
