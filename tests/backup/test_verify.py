"""`backup verify`: a good backup passes pg_verifybackup and a throwaway restore with pg_amcheck;
a corrupted or missing file fails with a message naming it."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisoros_db.backup import BackupError, BackupRecord
from advisoros_db.cli.app import app
from tests.backup.conftest import BackupEnv, db_url, execute

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def good(benv: BackupEnv) -> BackupRecord:
    execute(db_url(benv.admin_url), "CREATE TABLE IF NOT EXISTS verify_rows AS SELECT 1 AS x")
    return benv.backups.create()


@pytest.fixture
def pristine(benv: BackupEnv, good: BackupRecord) -> Iterator[Path]:
    """The backup's folder; whatever a test breaks in it is put back afterwards."""
    folder = benv.backups.repo.folder(good.id)
    saved = folder.with_name(folder.name + ".saved")
    shutil.copytree(folder, saved)
    yield folder
    shutil.rmtree(folder)
    saved.rename(folder)


def test_a_good_backup_verifies_through_the_cli(
    benv: BackupEnv, good: BackupRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in benv.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["backup", "verify", good.id])
    assert result.exit_code == 0, result.output
    assert "pg_verifybackup passed" in result.output
    assert "no corruption found" in result.output
    assert benv.backups.repo.get(good.id).verified_at is not None


def test_a_flipped_byte_fails_verify_naming_the_file(
    benv: BackupEnv, good: BackupRecord, pristine: Path
) -> None:
    target = pristine / "base.tar.enc"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=rf"{good.id}/base.tar: chunk \d+ fails authentication"):
        benv.backups.verify(good.id)


def test_a_missing_file_fails_verify_naming_it(
    benv: BackupEnv, good: BackupRecord, pristine: Path
) -> None:
    (pristine / "pg_wal.tar.enc").unlink()
    with pytest.raises(BackupError, match=rf"{good.id}/pg_wal.tar: missing"):
        benv.backups.verify(good.id)


def test_a_truncated_file_fails_verify(benv: BackupEnv, good: BackupRecord, pristine: Path) -> None:
    target = pristine / "backup_manifest.enc"
    target.write_bytes(target.read_bytes()[:-100])
    with pytest.raises(BackupError, match="truncated"):
        benv.backups.verify(good.id)


def test_data_corrupted_before_encryption_fails_pg_verifybackup(
    benv: BackupEnv, good: BackupRecord, pristine: Path, tmp_path: Path
) -> None:
    """A block damaged on the way (before it was sealed) is caught by the manifest checksums."""
    cipher = benv.backups.cipher
    name = f"{good.id}/base.tar"
    plain = tmp_path / "base.tar"
    cipher.decrypt_file(pristine / "base.tar.enc", plain, name=name)
    with tarfile.open(plain) as tar:
        member = tar.getmember("PG_VERSION")
    raw = bytearray(plain.read_bytes())
    raw[member.offset_data] ^= 0x01
    with open(pristine / "base.tar.enc", "wb") as sink:
        size = cipher.encrypt_stream(io.BytesIO(bytes(raw)), sink, name=name)
    record = benv.backups.repo.get(good.id)
    record.files["base.tar"] = size
    benv.backups.repo.save(record)
    with pytest.raises(BackupError, match=r'pg_verifybackup rejects .*"PG_VERSION"'):
        benv.backups.verify(good.id)
