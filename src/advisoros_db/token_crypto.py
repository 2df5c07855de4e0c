"""OAuth tokens encrypted at rest with AES-256-GCM, bound to their organization and field.

Only ciphertext reaches the database (and any SQL log); plaintext exists only in the
`QuickBooksCredentials` a caller decrypts, whose repr hides it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from advisoros_db.aes_key import GENERATE, decode_key
from advisoros_db.errors import AdvisorOSError, ConfigError
from advisoros_db.schema.quickbooks import QuickBooksToken
from advisoros_db.settings import Settings
from advisoros_db.targets import Target, token_key

KEY_ENV = "ADVISOROS_TOKEN_ENCRYPTION_KEY"
_FORMAT_VERSION = b"\x01"
_NONCE_BYTES = 12


class TokenDecryptionError(AdvisorOSError):
    """A stored token could not be decrypted: wrong key, or the ciphertext was altered or moved."""


class TokenCipher:
    """AES-GCM with a 32-byte key; the associated data ties a ciphertext to its row and field."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError(
                f"{KEY_ENV} must decode to 32 bytes, got {len(key)}; generate one with {GENERATE}"
            )
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, key: str | None) -> TokenCipher:
        """Build from the base64 setting; ConfigError says what is missing or wrong."""
        return cls(
            decode_key(
                key,
                env=KEY_ENV,
                purpose="token encryption key",
                when_missing="; the embedded cluster generates its own",
            )
        )

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _FORMAT_VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if blob[:1] != _FORMAT_VERSION or len(blob) < 1 + _NONCE_BYTES + 16:
            raise TokenDecryptionError(f"stored token for {context} is not in a known format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, context.encode()).decode()
        except InvalidTag:
            raise TokenDecryptionError(
                f"stored token for {context} does not decrypt with this key "
                f"(wrong {KEY_ENV}, or the row was altered)"
            ) from None


def _context(organization_id: uuid.UUID | str, column: str) -> str:
    return f"quickbooks_tokens/{organization_id}/{column}"


@dataclass(frozen=True)
class QuickBooksCredentials:
    """Decrypted tokens of one organization's QuickBooks connection; repr never shows them."""

    organization_id: uuid.UUID
    realm_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token_expires_at: dt.datetime
    refresh_token_expires_at: dt.datetime | None = None


def save_quickbooks_tokens(
    session: Session, cipher: TokenCipher, credentials: QuickBooksCredentials
) -> QuickBooksToken:
    """Insert or replace the organization's connection, storing only ciphertext."""
    org = credentials.organization_id
    row = session.scalars(
        select(QuickBooksToken).where(QuickBooksToken.organization_id == org)
    ).one_or_none()
    if row is None:
        row = QuickBooksToken(organization_id=org)
        session.add(row)
    row.realm_id = credentials.realm_id
    row.access_token_encrypted = cipher.encrypt(
        credentials.access_token, context=_context(org, "access_token")
    )
    row.refresh_token_encrypted = cipher.encrypt(
        credentials.refresh_token, context=_context(org, "refresh_token")
    )
    row.access_token_expires_at = credentials.access_token_expires_at
    row.refresh_token_expires_at = credentials.refresh_token_expires_at
    row.deleted_at = None
    row.is_active = True
    session.flush()
    return row


def load_quickbooks_tokens(
    session: Session, cipher: TokenCipher, organization_id: uuid.UUID
) -> QuickBooksCredentials | None:
    """The organization's decrypted tokens, or None when it has no active connection."""
    row = session.scalars(
        select(QuickBooksToken).where(
            QuickBooksToken.organization_id == organization_id,
            QuickBooksToken.deleted_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    return QuickBooksCredentials(
        organization_id=row.organization_id,
        realm_id=row.realm_id,
        access_token=cipher.decrypt(
            row.access_token_encrypted, context=_context(organization_id, "access_token")
        ),
        refresh_token=cipher.decrypt(
            row.refresh_token_encrypted, context=_context(organization_id, "refresh_token")
        ),
        access_token_expires_at=row.access_token_expires_at,
        refresh_token_expires_at=row.refresh_token_expires_at,
    )


def cipher_for(settings: Settings, target: Target) -> TokenCipher:
    """The cipher for a deployment: the configured key, else the embedded cluster's generated one."""
    return TokenCipher.from_base64(token_key(settings, target))
