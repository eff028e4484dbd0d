"""Extremely small BERT models from mixed-vocabulary training (Zhao, Gupta, Song, Zhou; EACL 2021).

A student BERT with a small WordPiece vocabulary and small hidden sizes learns from a large
teacher through two mechanisms: *dual training* (the teacher reads sequences whose words are
tokenized with either vocabulary at random, which gives the student's word pieces embeddings
in the teacher's space) and *shared projections* (trainable matrices that map the student's
layer weights to the teacher's, with an alignment loss).
"""

from __future__ import annotations

import importlib
from typing import Any

# what each module gives the package namespace; imported on first use (PEP 562), so that
# `python -m companion.minibert --help` (which imports this package first) needs neither
# transformers nor tokenizers
_EXPORTS: dict[str, tuple[str, ...]] = {
    "baselines": ("near_duplicates", "text_baselines", "word_sets"),
    "config": ("RunConfig",),
    "distill": ("logit_kd_loss", "student_mlm_loss", "student_predict", "train_student_logit_kd", "train_student_mlm"),
    "downstream": ("SentenceClassifier", "fine_tune", "linear_probe", "mean_pool", "sentence_features"),
    "experiments": ("run",),
    "mixed": ("IGNORE", "MixedTokenizer", "SingleTokenizer", "mask_tokens", "piece_log_prior"),
    "projection": ("LAYER_LINEARS", "SharedProjections", "build_mixed_student", "calibrate_head_scale",
                   "init_student_from_teacher", "init_student_head_from_teacher", "layer_map", "pca_projection",
                   "project_down", "project_layer_norm", "project_up", "projection_loss", "shared_projection_loss",
                   "weight_pairs"),
    "size": ("bert_parameter_count", "count_parameters", "size_on_disk_mb", "size_report"),
    "splits": ("downstream_split", "labelled_subset"),
    "student": ("build_student", "student_config"),
    "teacher": ("DualTeacher", "cache_masked_batches", "cached_teacher_logits", "dual_train", "dual_training_step",
                "fit_teacher_head", "init_student_embeddings", "masked_eval_batches", "mlm_metrics", "teacher_predict"),
    "vocab": ("SPECIAL_TOKENS", "plain_tokenizer", "train_student_vocab", "vocab_coverage", "wordpiece_vocab"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'companion.minibert' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"companion.minibert.{module}"), name)
    globals()[name] = value  # once: later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


__all__ = [
    "DualTeacher", "IGNORE", "build_mixed_student", "init_student_head_from_teacher", "calibrate_head_scale",
    "piece_log_prior", "project_layer_norm", "LAYER_LINEARS", "MixedTokenizer", "RunConfig", "SPECIAL_TOKENS",
    "SentenceClassifier", "cached_teacher_logits", "SharedProjections", "SingleTokenizer", "bert_parameter_count",
    "build_student", "cache_masked_batches", "count_parameters", "downstream_split", "dual_train",
    "dual_training_step", "fine_tune", "fit_teacher_head", "init_student_embeddings", "init_student_from_teacher",
    "labelled_subset", "layer_map", "linear_probe", "logit_kd_loss", "mask_tokens", "masked_eval_batches",
    "mean_pool", "mlm_metrics", "near_duplicates", "pca_projection", "plain_tokenizer", "project_down",
    "project_up", "projection_loss", "run", "sentence_features", "shared_projection_loss", "size_on_disk_mb",
    "size_report", "student_config", "student_mlm_loss", "student_predict", "teacher_predict", "text_baselines",
    "train_student_logit_kd", "train_student_mlm", "train_student_vocab", "vocab_coverage", "weight_pairs",
    "word_sets", "wordpiece_vocab",
]
