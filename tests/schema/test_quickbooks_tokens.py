"""QuickBooks OAuth tokens: AES-GCM at rest, bound to their organization, never in plain text in
the table or the SQL log; a clear ConfigError without a key."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os

import psycopg
import pytest
from sqlalchemy import create_engine

from advisoros_db.cluster import Cluster
from advisoros_db.errors import ConfigError
from advisoros_db.settings import Settings
from advisoros_db.targets import Target
from advisoros_db.tenancy import tenant_session
from advisoros_db.token_crypto import (
    QuickBooksCredentials,
    TokenCipher,
    TokenDecryptionError,
    cipher_for,
    load_quickbooks_tokens,
    save_quickbooks_tokens,
)
from advisoros_db.urls import to_sqlalchemy
from tests.schema.conftest import SeededDb

ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-token-plaintext"
REFRESH = "AB11-refresh-token-plaintext"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _credentials(seeded_db: SeededDb, tenant: int = 0) -> QuickBooksCredentials:
    return QuickBooksCredentials(
        organization_id=seeded_db.seed.organizations[tenant],
        realm_id="9130",
        access_token=ACCESS,
        refresh_token=REFRESH,
        access_token_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


def test_tokens_round_trip_and_only_ciphertext_is_stored_or_logged(
    seeded_db: SeededDb, caplog: pytest.LogCaptureFixture
) -> None:
    cipher = TokenCipher.from_base64(_key())
    org = seeded_db.seed.organizations[0]
    engine = create_engine(to_sqlalchemy(seeded_db.db.app_url), echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            with tenant_session(engine, org) as session:
                save_quickbooks_tokens(session, cipher, _credentials(seeded_db))
            with tenant_session(engine, org) as session:
                loaded = load_quickbooks_tokens(session, cipher, org)
    finally:
        engine.dispose()
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token) == (ACCESS, REFRESH)
    assert ACCESS not in repr(loaded) and REFRESH not in repr(loaded)
    assert (
        "INSERT INTO quickbooks_tokens" in caplog.text or "UPDATE quickbooks_tokens" in caplog.text
    )
    assert ACCESS not in caplog.text and REFRESH not in caplog.text
    with psycopg.connect(seeded_db.db.admin_url) as admin:
        raw = admin.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted, "
            "to_jsonb(q)::text FROM quickbooks_tokens q WHERE organization_id = %s",
            (org,),
        ).fetchone()
    assert raw is not None
    for blob in raw[:2]:
        assert ACCESS.encode() not in blob and REFRESH.encode() not in blob
    assert ACCESS not in raw[2] and REFRESH not in raw[2]


def test_a_ciphertext_moved_to_another_organization_does_not_decrypt(seeded_db: SeededDb) -> None:
    cipher = TokenCipher.from_base64(_key())
    org_a, org_b = seeded_db.seed.organizations
    engine = create_engine(to_sqlalchemy(seeded_db.db.app_url))
    try:
        with tenant_session(engine, org_a) as session:
            save_quickbooks_tokens(session, cipher, _credentials(seeded_db, 0))
        with psycopg.connect(seeded_db.db.admin_url) as admin:
            admin.execute(
                "UPDATE quickbooks_tokens SET access_token_encrypted = "
                "(SELECT access_token_encrypted FROM quickbooks_tokens WHERE organization_id = %s)"
                " WHERE organization_id = %s",
                (org_a, org_b),
            )
        with (
            pytest.raises(TokenDecryptionError, match="does not decrypt"),
            tenant_session(engine, org_b) as session,
        ):
            load_quickbooks_tokens(session, cipher, org_b)
    finally:
        engine.dispose()


def test_the_wrong_key_is_refused(seeded_db: SeededDb) -> None:
    org = seeded_db.seed.organizations[0]
    engine = create_engine(to_sqlalchemy(seeded_db.db.app_url))
    try:
        with tenant_session(engine, org) as session:
            save_quickbooks_tokens(
                session, TokenCipher.from_base64(_key()), _credentials(seeded_db)
            )
        with (
            pytest.raises(TokenDecryptionError, match="ADVISOROS_TOKEN_ENCRYPTION_KEY"),
            tenant_session(engine, org) as session,
        ):
            load_quickbooks_tokens(session, TokenCipher.from_base64(_key()), org)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "no token encryption key"),
        ("", "no token encryption key"),
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"short").decode(), "32 bytes, got 5"),
    ],
)
def test_a_missing_or_bad_key_is_a_config_error(key: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TokenCipher.from_base64(key)


def test_an_external_server_without_a_key_is_a_config_error() -> None:
    settings = Settings(database_url="postgresql://db.example/advisoros", token_encryption_key=None)
    target = Target(admin_url="postgresql://db.example/advisoros", app_url="postgresql://x/y")
    with pytest.raises(ConfigError, match="ADVISOROS_TOKEN_ENCRYPTION_KEY"):
        cipher_for(settings, target)


def test_the_configured_key_is_used() -> None:
    key = _key()
    settings = Settings(database_url="postgresql://db.example/advisoros", token_encryption_key=key)
    target = Target(admin_url="postgresql://db.example/advisoros", app_url="postgresql://x/y")
    sealed = cipher_for(settings, target).encrypt(ACCESS, context="c")
    assert TokenCipher.from_base64(key).decrypt(sealed, context="c") == ACCESS


def test_the_embedded_cluster_supplies_its_generated_key(cluster: Cluster) -> None:
    info = cluster.info()
    target = Target(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
    cipher = cipher_for(Settings(token_encryption_key=None), target)
    assert cipher.decrypt(cipher.encrypt(REFRESH, context="c"), context="c") == REFRESH
