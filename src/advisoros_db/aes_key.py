"""AES-256 keys given as base64 settings: decoded once, with errors that say how to make one."""

from __future__ import annotations

import base64
import binascii

from advisoros_db.errors import ConfigError

GENERATE = 'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'


def decode_key(value: str | None, *, env: str, purpose: str, when_missing: str = "") -> bytes:
    """The 32 raw bytes of a base64 key setting; ConfigError names `env` when missing or wrong."""
    if not value:
        raise ConfigError(
            f"no {purpose}: set {env} to base64 of 32 random bytes "
            f"(generate one with {GENERATE}){when_missing}"
        )
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{env} is not valid base64; generate one with {GENERATE}") from None
    if len(raw) != 32:
        raise ConfigError(
            f"{env} must decode to 32 bytes, got {len(raw)}; generate one with {GENERATE}"
        )
    return raw
