"""Which copy of a segment a restore replays: a completed segment beats a partial one sealed when
an earlier stream stopped, and the live partial beats that sealed one (it holds more WAL). Storing
a name the archive holds: the same content succeeds, different content fails (a partial may only
be extended); and where the archive resumes after a failover."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisoros_db.backup import BackupCipher, BackupError, Repository, walfiles
from advisoros_db.backup.handover import resume_point
from advisoros_db.backup.wal import stage, sweep
from advisoros_db.backup.walfiles import Stored
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


PAD = b"\0" * 64  # pg_receivewal pads a partial segment with zeros to the segment's size


def test_storing_the_same_file_twice_succeeds_and_a_different_segment_fails(
    tmp_path: Path,
) -> None:
    repo, cipher = _repo(tmp_path)
    (repo.incoming / SEGMENT).write_bytes(b"wal bytes" + PAD)
    assert walfiles.store(repo, cipher, repo.incoming / SEGMENT) is Stored.NEW
    assert walfiles.store(repo, cipher, repo.incoming / SEGMENT) is Stored.SAME
    (repo.incoming / SEGMENT).write_bytes(b"other bytes" + PAD)
    with pytest.raises(BackupError, match=f"already holds a different {SEGMENT}"):
        sweep(repo, cipher)
    assert (repo.incoming / SEGMENT).exists(), "the new copy stays for inspection"
    stage(repo, cipher, tmp_path / "out")
    assert (tmp_path / "out" / SEGMENT).read_bytes() == b"wal bytes" + PAD, "never overwritten"


def test_a_partial_segment_is_replaced_only_by_one_that_extends_it(tmp_path: Path) -> None:
    repo, cipher = _repo(tmp_path)
    partial = repo.incoming / f"{SEGMENT}.partial"
    partial.write_bytes(b"records 1-2" + PAD)
    assert walfiles.store(repo, cipher, partial) is Stored.NEW
    partial.write_bytes(b"records 1-2, 3" + PAD[3:])
    assert walfiles.store(repo, cipher, partial) is Stored.EXTENDED
    partial.write_bytes(b"records 1-2" + PAD)
    assert walfiles.store(repo, cipher, partial) is Stored.KEPT
    partial.write_bytes(b"records 1-2; 9" + PAD[3:])
    with pytest.raises(BackupError, match="differ from byte 11"):
        walfiles.store(repo, cipher, partial)
    partial.unlink()
    stage(repo, cipher, tmp_path / "out")
    assert (tmp_path / "out" / SEGMENT).read_bytes() == b"records 1-2, 3" + PAD[3:]


def test_a_partial_left_at_a_timeline_switch_is_archived_while_the_stream_runs(
    tmp_path: Path,
) -> None:
    repo, cipher = _repo(tmp_path)
    switched = "000000010000000000000005.partial"  # the old timeline, up to the switch
    current = "000000020000000000000005.partial"  # the new timeline, being written
    for name in (switched, current, "00000002.history"):
        (repo.incoming / name).write_bytes(name.encode())
    assert sweep(repo, cipher) == [switched, "00000002.history"]
    assert [p.name for p in repo.incoming.iterdir()] == [current]


def test_the_archive_resumes_from_its_newest_segment_held_in_part(tmp_path: Path) -> None:
    repo, cipher = _repo(tmp_path)
    assert resume_point(repo) is None
    for name in ("000000010000000000000004", "000000010000000000000005.partial"):
        (repo.incoming / name).write_bytes(b"x")
    sweep(repo, cipher, final=True)
    assert resume_point(repo) == 5 * walfiles.SEGMENT_BYTES
    (repo.incoming / "000000010000000000000005").write_bytes(b"x")
    sweep(repo, cipher)
    assert resume_point(repo) == 6 * walfiles.SEGMENT_BYTES
    (repo.incoming / "000000020000000000000006.partial").write_bytes(b"x")
    assert resume_point(repo) == 6 * walfiles.SEGMENT_BYTES, "the live partial counts"
    assert walfiles.lsn_text(resume_point(repo) or 0) == "0/6000000"


def test_wal_an_old_timeline_holds_past_its_switch_does_not_move_the_resume_point(
    tmp_path: Path,
) -> None:
    repo, cipher = _repo(tmp_path)
    # Timeline 1 ran on to segment 7 on the old primary; timeline 2 forked in segment 5.
    for name in ("000000010000000000000007", "000000020000000000000005.partial"):
        (repo.incoming / name).write_bytes(b"x")
    sweep(repo, cipher, final=True)
    assert resume_point(repo) == 5 * walfiles.SEGMENT_BYTES


def test_files_the_stream_finished_that_no_sweep_archived_yet_are_staged(tmp_path: Path) -> None:
    """A restore while the streamer's sweep is behind pg_receivewal (a busy machine, or right
    after a failover while it re-reads WAL the archive holds): the flushed WAL lies in completed
    files in `wal/incoming`. Once only the live partial was staged from there, and replay
    stopped at the first of them (test_wal_handover.py failed so under load)."""
    repo, cipher = _repo(tmp_path)
    (repo.incoming / "000000010000000000000004").write_bytes(b"archived")
    sweep(repo, cipher)
    unswept = {
        "000000010000000000000005.partial": b"up to the switch",
        "00000002.history": b"1\t0/5000100\tno recovery target specified",
        "000000020000000000000005": b"complete, not swept",
        "000000020000000000000006": b"complete, not swept either",
        "000000020000000000000007.partial": b"being written",
    }
    for name, content in unswept.items():
        (repo.incoming / name).write_bytes(content)
    assert stage(repo, cipher, tmp_path / "out") == 6
    staged = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert staged == {
        "000000010000000000000004": b"archived",
        **{name.removesuffix(".partial"): content for name, content in unswept.items()},
    }


def test_a_segment_completed_or_archived_while_staging_is_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The streamer runs on during a restore: deterministically, a sweep archives a completed
    segment between staging the archive and reading `wal/incoming`, and pg_receivewal completes
    the live partial between listing `wal/incoming` and copying it."""
    from advisoros_db.backup import wal

    repo, cipher = _repo(tmp_path)
    live = repo.incoming / "000000010000000000000006.partial"
    (repo.incoming / SEGMENT).write_bytes(b"completed, swept during staging")
    live.write_bytes(b"live")
    first_pass = wal._stage_archived
    calls: list[int] = []

    def sweep_after_the_first_pass(*args: object) -> None:
        first_pass(*args)  # type: ignore[arg-type]
        calls.append(1)
        if len(calls) == 1:
            assert sweep(repo, cipher) == [SEGMENT]

    copy = wal.shutil.copyfile

    def complete_before_copying(source: Path, target: Path) -> object:
        if source == live:
            live.write_bytes(b"live, now complete")
            live.rename(live.with_suffix(""))
        return copy(source, target)

    monkeypatch.setattr(wal, "_stage_archived", sweep_after_the_first_pass)
    monkeypatch.setattr(wal.shutil, "copyfile", complete_before_copying)
    assert stage(repo, cipher, tmp_path / "out") == 2
    assert (tmp_path / "out" / SEGMENT).read_bytes() == b"completed, swept during staging"
    assert (tmp_path / "out" / "000000010000000000000006").read_bytes() == b"live, now complete"
