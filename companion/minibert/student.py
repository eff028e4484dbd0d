"""The student: a BERT with a small vocabulary and small hidden sizes (transformers' BertForMaskedLM)."""

from __future__ import annotations

from transformers import BertConfig, BertForMaskedLM


def student_config(vocab_size: int = 4000, hidden: int = 128, layers: int = 6, heads: int | None = None,
                   intermediate: int | None = None, max_positions: int = 128) -> BertConfig:
    """A BERT config for the student.

    ``heads`` defaults to ``hidden // 32`` (the teacher's head width, 384 / 12 = 32) and
    ``intermediate`` to ``4 * hidden`` (BERT's ratio). Only ``max_positions`` positions are kept
    (our sequences are at most 64 pieces), which saves ``(512 - max_positions) * hidden`` parameters.
    """
    heads = heads if heads is not None else max(1, hidden // 32)
    intermediate = intermediate if intermediate is not None else 4 * hidden
    for name, value in (("vocab_size", vocab_size), ("hidden", hidden), ("layers", layers), ("heads", heads),
                        ("intermediate", intermediate), ("max_positions", max_positions)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                      intermediate_size=intermediate, max_position_embeddings=max_positions, type_vocab_size=2,
                      hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                      pad_token_id=0, tie_word_embeddings=True)


def build_student(config: BertConfig) -> BertForMaskedLM:
    """A freshly initialised student (BERT's N(0, 0.02) initialisation)."""
    return BertForMaskedLM(config)
