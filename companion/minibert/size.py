"""Model size: parameters, bytes in memory, and the size of the saved file (MB = 10^6 bytes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from transformers import BertConfig


def count_parameters(model: torch.nn.Module) -> int:
    """Distinct parameters (a tied decoder and embedding are counted once)."""
    return sum(p.numel() for p in model.parameters())


def bert_parameter_count(config: BertConfig, mlm_head: bool = True, pooler: bool = False) -> int:
    """Parameters of a BERT with ``config``, from the formula (no model is built).

    Embeddings: ``(V + P + T) d + 2d``; each layer: ``4(d^2 + d)`` (Q, K, V, output) ``+ 2d``
    (LayerNorm) ``+ 2 d f + f + d`` (feed-forward) ``+ 2d``; pooler ``d^2 + d``; MLM head
    ``d^2 + d + 2d + V`` (its decoder matrix is tied to the word embeddings).
    """
    d, f, v = config.hidden_size, config.intermediate_size, config.vocab_size
    emb = (v + config.max_position_embeddings + config.type_vocab_size) * d + 2 * d
    layer = 4 * (d * d + d) + 2 * d + 2 * d * f + f + d + 2 * d
    total = emb + config.num_hidden_layers * layer
    if pooler:
        total += d * d + d
    if mlm_head:
        total += d * d + d + 2 * d + v
    return total


def size_on_disk_mb(model: torch.nn.Module) -> float:
    """Size in MB of the model saved in float32 with ``save_pretrained`` (safetensors)."""
    if not hasattr(model, "save_pretrained"):
        raise ValueError(f"expected a transformers model with save_pretrained, got {type(model).__name__}")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Writing model shards" bar for a temporary file
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        return sum(f.stat().st_size for f in Path(tmp).glob("*.safetensors")) / 1e6


def size_report(model: torch.nn.Module, reference_parameters: int | None = None) -> dict[str, float]:
    """``parameters``, ``embedding_parameters``, ``memory_mb`` (float32), ``disk_mb`` and, given
    the teacher's parameter count, ``compression`` (teacher / this model)."""
    n = count_parameters(model)
    emb = model.get_input_embeddings().weight.numel()
    out = {"parameters": n, "embedding_parameters": emb, "memory_mb": 4 * n / 1e6, "disk_mb": size_on_disk_mb(model)}
    if reference_parameters is not None:
        out["compression"] = reference_parameters / n
    return out
