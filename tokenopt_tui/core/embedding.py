"""One offline sentence embedding for the whole app (routing neighbours, skill matching).

WordLlama: 256-dimension static embeddings whose weights and tokenizer ship inside its
wheel, loaded from there (never the network) in ~0.3 s, once per process; embedding a
short text takes ~40 µs. Call `embedder()` from a worker thread the first time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Embed = Callable[[list[str]], Any]  # texts -> an (n, 256) float array

_lock = threading.Lock()
_embed: Embed | None = None


def embedder() -> Embed:
    """The shared embedding function (loaded on first use; raises if it cannot load)."""
    global _embed
    with _lock:
        if _embed is None:
            import wordllama
            from wordllama import WordLlama

            model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                   disable_download=True)
            _embed = model.embed
        return _embed


def normalised(embed: Embed, texts: list[str]) -> Any:
    """Unit-length rows, so a dot product is the cosine."""
    import numpy as np

    vectors = np.asarray(embed(texts), dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


class VectorCache:
    """Embeddings kept on disk, keyed by a hash of the text (so an edited description is
    embedded again and nothing else is): a warm scan of 1,000 skills reads one file
    instead of embedding 1,000 descriptions. A missing or unreadable file is rebuilt."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._vectors: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._vectors is None:
            self._vectors = {}
            if self.path is not None and self.path.exists():
                import numpy as np

                try:
                    with np.load(self.path) as stored:
                        self._vectors = {key: stored[key] for key in stored.files}
                except (OSError, ValueError):
                    self._vectors = {}  # a broken cache is only a slower start
        return self._vectors

    def normalised(self, embed: Embed, texts: list[str]) -> Any:
        """Unit rows for `texts`, embedding only those not cached; saves what is new."""
        import hashlib

        import numpy as np

        cached = self._load()
        keys = [hashlib.sha1(text.encode("utf-8")).hexdigest() for text in texts]
        missing = [i for i, key in enumerate(keys) if key not in cached]
        if missing:
            fresh = normalised(embed, [texts[i] for i in missing])
            for row, i in enumerate(missing):
                cached[keys[i]] = fresh[row]
            self._save({key: cached[key] for key in keys})
        if not keys:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([cached[key] for key in keys])

    def _save(self, vectors: dict[str, Any]) -> None:
        """Keep just the current texts' vectors (written atomically; best effort)."""
        if self.path is None:
            return
        import os
        import tempfile

        import numpy as np

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as out:
                np.savez(out, **vectors)
            os.replace(tmp, self.path)
        except OSError:
            return
