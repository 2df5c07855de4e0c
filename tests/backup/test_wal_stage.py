"""Which copy of a segment a restore replays: a completed segment beats a partial one sealed when
an earlier stream stopped, and the live partial beats that sealed one (it holds more WAL)."""

from __future__ import annotations

from pathlib import Path

from advisoros_db.backup import BackupCipher, Repository
from advisoros_db.backup.wal import stage, sweep
from tests.backup.conftest import new_key

SEGMENT = "000000010000000000000005"


def _repo(tmp_path: Path) -> tuple[Repository, BackupCipher]:
    repo = Repository(tmp_path / "repo")
    repo.prepare()
    return repo, BackupCipher.from_setting(new_key())


def test_the_live_partial_beats_a_sealed_one(tmp_path: Path) -> None:
    repo, cipher = _repo(tmp_path)
    (repo.incoming / f"{SEGMENT}.partial").write_bytes(b"old")
    assert sweep(repo, cipher, final=True) == [f"{SEGMENT}.partial"]
    assert not list(repo.incoming.iterdir())
    (repo.incoming / f"{SEGMENT}.partial").write_bytes(b"old and new")
    stage(repo, cipher, tmp_path / "out")
    assert (tmp_path / "out" / SEGMENT).read_bytes() == b"old and new"


def test_a_completed_segment_beats_a_sealed_partial(tmp_path: Path) -> None:
    repo, cipher = _repo(tmp_path)
    (repo.incoming / f"{SEGMENT}.partial").write_bytes(b"part")
    sweep(repo, cipher, final=True)
    (repo.incoming / SEGMENT).write_bytes(b"complete")
    (repo.incoming / "000000010000000000000006.partial").write_bytes(b"next")
    assert sweep(repo, cipher) == [SEGMENT], "a running stream leaves its partial alone"
    stage(repo, cipher, tmp_path / "out")
    assert (tmp_path / "out" / SEGMENT).read_bytes() == b"complete"
    assert (tmp_path / "out" / "000000010000000000000006").read_bytes() == b"next"
