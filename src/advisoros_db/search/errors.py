"""Errors search raises on purpose: bad input and missing things, each saying what to do."""

from __future__ import annotations

from advisoros_db.errors import AdvisorOSError


class SearchError(AdvisorOSError):
    """Root of the search package's own errors."""


class SearchInputError(SearchError):
    """A query, vector, id or option was unusable; nothing was read or written."""


class DocumentNotFound(SearchError):
    """The document does not exist in this organization (or has no text or embeddings yet)."""


class EmbedderError(SearchError):
    """The embedding model could not be loaded or could not embed; stored chunks are unchanged."""
