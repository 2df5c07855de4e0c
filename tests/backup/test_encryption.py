"""Backups are encrypted at rest: a known value is nowhere in the repository's files, and the key
is required, checked and bound to each file."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisoros_db.backup import BackupCipher, BackupError, Backups
from advisoros_db.backup.wal import stage
from advisoros_db.cli.app import app
from advisoros_db.errors import ConfigError
from advisoros_db.settings import Settings
from advisoros_db.targets import Target
from tests.backup.conftest import BackupEnv, current_lsn, db_url, execute, new_key

SECRET = "SSN-078-05-1120-known-plaintext"


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(path)
    return found


@pytest.mark.slow
def test_a_known_value_is_in_no_backup_file_but_is_in_the_decrypted_wal(
    benv: BackupEnv, tmp_path: Path
) -> None:
    url = db_url(benv.admin_url)
    execute(url, "CREATE TABLE IF NOT EXISTS secrets (v text)")
    benv.backups.create()
    execute(url, f"INSERT INTO secrets VALUES ('{SECRET}')", "CHECKPOINT")
    benv.backups.wait_archived(current_lsn(url))
    benv.backups.create()
    benv.backups.stop_streaming()  # its last act seals the segment it was writing
    try:
        repo = benv.backups.repo.root
        assert not list((repo / "wal" / "incoming").glob("*")), "no plaintext WAL left behind"
        assert _files_containing(repo, SECRET.encode()) == []
        # The search can find it: decrypted, the archived WAL holds the value.
        stage(benv.backups.repo, benv.backups.cipher, tmp_path / "plain")
        assert _files_containing(tmp_path / "plain", SECRET.encode())
    finally:
        benv.backups.stream()


def test_every_command_without_a_key_says_which_setting_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, backup_encryption_key=None)
    target = Target(admin_url="postgresql://db.example/advisoros", app_url="postgresql://x/y")
    with pytest.raises(ConfigError, match="ADVISOROS_BACKUP_ENCRYPTION_KEY"):
        Backups.from_settings(settings, target)
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", "postgresql://db.example/advisoros")
    monkeypatch.delenv("ADVISOROS_BACKUP_ENCRYPTION_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file here
    result = CliRunner().invoke(app, ["backup", "list"])
    assert result.exit_code == 1
    assert "no backup encryption key" in result.output
    assert "ADVISOROS_BACKUP_ENCRYPTION_KEY" in result.output


@pytest.mark.parametrize(
    ("key", "message"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes, got 5")],
)
def test_a_bad_key_is_a_config_error(key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BackupCipher.from_setting(key)


def _seal(cipher: BackupCipher, data: bytes, name: str = "b/base.tar") -> bytes:
    sink = io.BytesIO()
    cipher.encrypt_stream(io.BytesIO(data), sink, name=name)
    return sink.getvalue()


def _open(cipher: BackupCipher, sealed: bytes, name: str = "b/base.tar") -> bytes:
    return b"".join(cipher.decrypt_chunks(io.BytesIO(sealed), name=name))


def test_round_trip_over_several_chunks_and_empty() -> None:
    cipher = BackupCipher.from_setting(new_key())
    data = os.urandom(3 * (1 << 20) + 123)
    assert _open(cipher, _seal(cipher, data)) == data
    assert _open(cipher, _seal(cipher, b"")) == b""


def test_wrong_key_renamed_file_and_dropped_last_chunk_all_fail() -> None:
    cipher = BackupCipher.from_setting(new_key())
    data = os.urandom(2 * (1 << 20) + 5)
    sealed = _seal(cipher, data)
    with pytest.raises(BackupError, match="fails authentication"):
        _open(BackupCipher.from_setting(new_key()), sealed)
    with pytest.raises(BackupError, match="fails authentication"):
        _open(cipher, sealed, name="b/pg_wal.tar")
    # Cut after the second chunk: the remaining chunks still authenticate, but none is marked
    # last, so the file reads as truncated rather than as a shorter valid file.
    header, chunk = 16, 4 + (1 << 20) + 16
    with pytest.raises(BackupError, match="truncated"):
        _open(cipher, sealed[: header + 2 * chunk])
