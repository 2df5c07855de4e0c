"""An application's own migrations on top of the library's: where they live, what they model.

The library's revisions form the Alembic branch labelled `advisoros`; an application keeps its
revisions in a folder of its own, as a second branch whose first revision `depends_on` a library
revision (Alembic's documented multiple-bases pattern). `migrate`, `rollback` and `check` then
load both folders (`version_locations`) and work on both heads.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy import MetaData

from advisoros_db.errors import MigrationError

LIBRARY_BRANCH = "advisoros"


def app_folder(path: Path | str | None) -> Path | None:
    """The application's revision folder, resolved; a clear error when it is not a folder."""
    if path is None:
        return None
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise MigrationError(
            f"application migrations folder {folder} does not exist or is not a folder; "
            "set ADVISOROS_APP_MIGRATIONS (or --app-migrations) to the folder holding your "
            "Alembic revision files"
        )
    return folder


def load_metadata(spec: str | None) -> MetaData | None:
    """The application's `MetaData` named as `package.module:attribute` (None when unset)."""
    if not spec:
        return None
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise MigrationError(
            f"application metadata {spec!r} must look like package.module:metadata "
            "(ADVISOROS_APP_METADATA or --app-metadata)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MigrationError(
            f"cannot import {module_name!r} for the application metadata: {exc}; "
            "is the application importable from here (PYTHONPATH)?"
        ) from exc
    found = getattr(module, attribute, None)
    if isinstance(found, MetaData):
        return found
    registry_metadata = getattr(found, "metadata", None)  # a DeclarativeBase works too
    if isinstance(registry_metadata, MetaData):
        return registry_metadata
    raise MigrationError(
        f"{spec!r} is {type(found).__name__}, not a SQLAlchemy MetaData or declarative base"
    )
