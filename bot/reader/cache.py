"""Reader vectors kept on disk by prompt key (prompt.prompt_key): fitting and measuring read each
prompt once, and `fit` refits the probe without the model when every tune prompt is cached."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from bot.reader.model_file import ReaderError


class VectorCache:
    """key → float16 vector, loaded from and saved to one .npz file (keys, vectors)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                raise ReaderError(f"reader: {path} is not a vector cache ({exc})") from None
            self.vectors = {str(k): v for k, v in zip(keys, vectors)}

    def get(self, key: str) -> np.ndarray | None:
        vector = self.vectors.get(key)
        return None if vector is None else vector.astype(np.float32)

    def put(self, key: str, vector: np.ndarray) -> None:
        self.vectors[key] = vector.astype(np.float16)

    def save(self) -> None:
        """Write atomically (a temporary file renamed over the old one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.vectors)
        partial = self.path.with_name(self.path.name + ".partial.npz")
        np.savez_compressed(partial, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        os.replace(partial, self.path)
