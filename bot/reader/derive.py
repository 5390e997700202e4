"""The reader's own GGUF file, derived from the official one: its first READER.layers blocks, and an output
head that is the identity on the hidden state, so that the last token's first n_embd "logits" are the
(normed) hidden state the probe reads.

Why a file of its own (docs/reader.md, "Serving time"): in embedding mode llama.cpp computes every
prompt token as an output, and so the 151,936 × 1,536 output head for each of them, about a fifth of
the time of the whole model; asked for the last token's logits only, the head runs once. The identity
head gives the hidden state exactly (cosine 1.0000 to the embedding-mode vectors with all 28 blocks).
And the middle block's state is read (a probe fitted on it separates as well as on the last, and the
prompt costs half the blocks): READER.layers has the measurements.

The file is written with gguf-py (pinned in the reader extra): the same source and the same layers give
the same bytes, so its sha256 is fixed in model_file.py and checked like the official file's."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from bot.reader.model_file import ReaderError

logger = logging.getLogger(__name__)

HEAD_KEY = "bulletin_bot.reader.head"  # "identity": the output head returns the hidden state
LAYERS_KEY = "bulletin_bot.reader.layers"
SOURCE_KEY = "bulletin_bot.reader.source_sha256"


def derive(source: Path, target: Path, layers: int, source_sha256: str) -> None:
    """Write the reader's file for `source` at `target` (the caller verifies it and renames it)."""
    try:
        import gguf
    except ImportError:
        raise ReaderError('reader: gguf is not installed (pip install -e ".[reader]")') from None
    try:
        reader = gguf.GGUFReader(source)
        arch = str(reader.fields["general.architecture"].contents())
        n_embd = int(reader.fields[f"{arch}.embedding_length"].contents())
        blocks = int(reader.fields[f"{arch}.block_count"].contents())
        vocab = len(reader.fields["tokenizer.ggml.tokens"].contents())
    except (KeyError, ValueError, OSError) as exc:
        raise ReaderError(f"reader: {source} is not a GGUF model the reader can derive from ({exc})") from None
    if not 1 <= layers <= blocks:
        raise ReaderError(f"reader: {source} has {blocks} blocks; the reader reads block {layers}")
    writer = gguf.GGUFWriter(target, arch=arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by the writer itself
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        value = layers if field.name == f"{arch}.block_count" else field.contents()
        writer.add_key_value(field.name, value, kind, sub_type=sub)
    writer.add_key_value(HEAD_KEY, "identity", gguf.GGUFValueType.STRING)
    writer.add_key_value(LAYERS_KEY, layers, gguf.GGUFValueType.UINT32)
    writer.add_key_value(SOURCE_KEY, source_sha256, gguf.GGUFValueType.STRING)
    # rows 0…n_embd-1 of the head are the identity (exact in F16), the rest zero: logits[:n_embd] = state
    head = np.zeros((vocab, n_embd), dtype=np.float16)
    head[np.arange(n_embd), np.arange(n_embd)] = 1
    kept = [t for t in reader.tensors if not (t.name.startswith("blk.") and int(t.name.split(".")[1]) >= layers)]
    if "output.weight" not in {t.name for t in kept}:
        raise ReaderError(f"reader: {source} has no output.weight to replace (a tied head is not supported)")
    data = {t.name: head if t.name == "output.weight" else t.data for t in kept}
    for tensor in kept:
        quant = gguf.GGMLQuantizationType.F16 if tensor.name == "output.weight" else tensor.tensor_type
        array = data[tensor.name]
        writer.add_tensor_info(tensor.name, array.shape, array.dtype, array.nbytes, quant)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in kept:
        writer.write_tensor_data(data[tensor.name], tensor_endianess=reader.endianess)
    writer.close()
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    logger.info("reader: derived %s (%d of %d blocks, identity head) from %s", target, layers, blocks, source)
