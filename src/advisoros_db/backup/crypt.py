"""Backup files encrypted at rest: AES-256-GCM in 1 MiB chunks, streamed, never whole in memory.

Layout: MAGIC, an 8-byte random prefix, then chunks of (4-byte length, ciphertext+tag). Chunk i's
nonce is prefix + i; its associated data is the file's logical name, i and a last-chunk flag, so
a chunk moved, dropped, reordered, a file truncated or swapped for another fails to decrypt.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from advisoros_db.aes_key import decode_key
from advisoros_db.errors import AdvisorOSError

KEY_ENV = "ADVISOROS_BACKUP_ENCRYPTION_KEY"
MAGIC = b"AOSBK\x00\x01\n"
CHUNK = 1 << 20
_LEN = struct.Struct(">I")


class BackupError(AdvisorOSError):
    """A backup could not be taken, read, verified or restored; the message says which file."""


class BackupCipher:
    """Encrypts and decrypts backup files with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_setting(cls, value: str | None) -> BackupCipher:
        return cls(decode_key(value, env=KEY_ENV, purpose="backup encryption key"))

    def encrypt_stream(self, source: BinaryIO, sink: BinaryIO, *, name: str) -> int:
        """Encrypt `source` into `sink`; returns the bytes written."""
        prefix = os.urandom(8)
        sink.write(MAGIC + prefix)
        written = len(MAGIC) + 8
        index = 0
        chunk = source.read(CHUNK)
        while True:
            following = source.read(CHUNK) if chunk else b""
            last = not following
            sealed = self._aead.encrypt(_nonce(prefix, index), chunk, _aad(name, index, last))
            sink.write(_LEN.pack(len(sealed)) + sealed)
            written += _LEN.size + len(sealed)
            if last:
                return written
            chunk, index = following, index + 1

    def decrypt_chunks(self, source: BinaryIO, *, name: str) -> Iterator[bytes]:
        """The plaintext of `source`, chunk by chunk; BackupError when anything was altered."""
        head = source.read(len(MAGIC) + 8)
        if head[: len(MAGIC)] != MAGIC or len(head) != len(MAGIC) + 8:
            raise BackupError(f"{name}: not an advisoros-db encrypted backup file (bad header)")
        prefix = head[len(MAGIC) :]
        index = 0
        while True:
            size_bytes = source.read(_LEN.size)
            if len(size_bytes) != _LEN.size:
                raise BackupError(f"{name}: truncated (ends before its last chunk)")
            (size,) = _LEN.unpack(size_bytes)
            sealed = source.read(size)
            if len(sealed) != size:
                raise BackupError(f"{name}: truncated inside chunk {index}")
            nonce = _nonce(prefix, index)
            for last in (False, True):
                try:
                    plain = self._aead.decrypt(nonce, sealed, _aad(name, index, last))
                except InvalidTag:
                    continue
                yield plain
                if last:
                    if source.read(1):
                        raise BackupError(f"{name}: data after its last chunk")
                    return
                break
            else:
                raise BackupError(
                    f"{name}: chunk {index} fails authentication: the file is corrupted or was "
                    f"altered, or {KEY_ENV} is not the key it was written with"
                )
            index += 1

    def reader(self, source: BinaryIO, *, name: str) -> io.BufferedReader:
        """`source`'s plaintext as a readable stream (authenticated chunk by chunk as it is read),
        to unpack a backup without its plaintext ever lying whole on disk."""
        return io.BufferedReader(_ChunkReader(self.decrypt_chunks(source, name=name)), CHUNK)

    def encrypt_file(self, source: Path, target: Path, *, name: str) -> int:
        """Encrypt `source` to `target` atomically (temporary file, fsync, rename)."""
        partial = target.with_name(target.name + ".tmp")
        with open(source, "rb") as src, _private(partial) as sink:
            size = self.encrypt_stream(src, sink, name=name)
            sink.flush()
            os.fsync(sink.fileno())
        partial.replace(target)
        return size

    def decrypt_file(self, source: Path, target: Path, *, name: str) -> None:
        if not source.exists():
            raise BackupError(f"{name}: missing ({source} does not exist)")
        with open(source, "rb") as src, _private(target) as sink:
            for plain in self.decrypt_chunks(src, name=name):
                sink.write(plain)


class _ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._chunk:
            following = next(self._chunks, None)
            if following is None:
                return 0
            self._chunk = memoryview(following)
        size = min(len(buffer), len(self._chunk))
        buffer[:size] = self._chunk[:size]
        self._chunk = self._chunk[size:]
        return size


def _private(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(name: str, index: int, last: bool) -> bytes:
    return f"{name}\x00{index}\x00{int(last)}".encode()
