"""Extremely small BERT models from mixed-vocabulary training (Zhao, Gupta, Song, Zhou; EACL 2021).

A student BERT with a small WordPiece vocabulary and small hidden sizes learns from a large
teacher through two mechanisms: *dual training* (the teacher reads sequences whose words are
tokenized with either vocabulary at random, which gives the student's word pieces embeddings
in the teacher's space) and *shared projections* (trainable matrices that map the student's
layer weights to the teacher's, with an alignment loss).
"""

from companion.minibert.distill import (logit_kd_loss, student_mlm_loss, student_predict, train_student_logit_kd,
                                        train_student_mlm)
from companion.minibert.downstream import SentenceClassifier, fine_tune, linear_probe, mean_pool, sentence_features
from companion.minibert.experiments import RunConfig, run
from companion.minibert.mixed import IGNORE, MixedTokenizer, SingleTokenizer, mask_tokens, piece_log_prior
from companion.minibert.projection import (LAYER_LINEARS, SharedProjections, build_mixed_student, calibrate_head_scale,
                                           init_student_from_teacher, init_student_head_from_teacher, layer_map,
                                           pca_projection, project_down, project_layer_norm, project_up,
                                           projection_loss, shared_projection_loss, weight_pairs)
from companion.minibert.size import bert_parameter_count, count_parameters, size_on_disk_mb, size_report
from companion.minibert.student import build_student, student_config
from companion.minibert.teacher import (DualTeacher, cache_masked_batches, cached_teacher_logits, dual_train,
                                        dual_training_step, fit_teacher_head, init_student_embeddings, masked_eval_batches, mlm_metrics,
                                        teacher_predict)
from companion.minibert.vocab import SPECIAL_TOKENS, plain_tokenizer, train_student_vocab, vocab_coverage, wordpiece_vocab

__all__ = [
    "DualTeacher", "IGNORE", "build_mixed_student", "init_student_head_from_teacher", "calibrate_head_scale",
    "piece_log_prior", "project_layer_norm", "LAYER_LINEARS", "MixedTokenizer", "RunConfig", "SPECIAL_TOKENS",
    "SentenceClassifier",
    "cached_teacher_logits",
    "SharedProjections", "SingleTokenizer", "bert_parameter_count", "build_student", "cache_masked_batches",
    "count_parameters", "dual_train", "dual_training_step", "fine_tune", "fit_teacher_head", "init_student_embeddings",
    "init_student_from_teacher", "layer_map", "linear_probe", "logit_kd_loss", "mask_tokens", "masked_eval_batches",
    "mean_pool", "mlm_metrics", "pca_projection", "plain_tokenizer", "project_down", "project_up", "projection_loss",
    "run", "sentence_features", "shared_projection_loss", "size_on_disk_mb", "size_report", "student_config",
    "student_mlm_loss", "student_predict", "teacher_predict", "train_student_logit_kd", "train_student_mlm",
    "train_student_vocab", "vocab_coverage", "weight_pairs", "wordpiece_vocab",
]
