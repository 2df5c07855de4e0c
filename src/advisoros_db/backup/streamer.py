"""`python -m advisoros_db.backup.streamer REPO`: the background WAL streamer process.

Started by `backup create` (or `backup stream`); the key and the source come in the environment,
never on the command line where `ps` would show them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from advisoros_db.backup.crypt import KEY_ENV, BackupCipher
from advisoros_db.backup.repository import Repository
from advisoros_db.backup.source import Source
from advisoros_db.backup.wal import SOURCE_ENV, run_streamer
from advisoros_db.cluster import binaries


def main() -> None:
    repo = Repository(Path(sys.argv[1]))
    cipher = BackupCipher.from_setting(os.environ.get(KEY_ENV))
    source = Source(os.environ[SOURCE_ENV], binaries.current_user())
    run_streamer(repo, cipher, source)


if __name__ == "__main__":
    main()
