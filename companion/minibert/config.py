"""The settings of one MiniBERT run and what each means.

Kept apart from :mod:`companion.minibert.experiments` (which imports ``transformers``) so that
``python -m companion.minibert --help`` builds its flags from them on a core install.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunConfig", "RUN_HELP"]


@dataclass
class RunConfig:
    """Every setting of one run (the CLI exposes them; :data:`RUN_HELP` says what each does)."""

    student_vocab: int = 4000
    hidden: int = 128
    layers: int = 6
    max_length: int = 32
    max_per_library: int = 2000
    cache_sentences: int = 0          # 0: all training sentences go through the teacher once
    teacher_steps: int = 1800         # the teacher's continued MLM pre-training (TeacherConfig; cached)
    teacher_head_steps: int = 200
    val_sentences: int = 300          # training sentences held back: the students' validation curves
    eval_every: int = 250             # validation every N student steps (0: none)
    tuned_layers: int = 1             # top teacher layers tuned in dual training (the rest is frozen)
    dual_lr: float = 1e-4             # dual training: the new student-piece table and its bias
    layer_lr: float = 1e-5            # dual training: the pre-trained head and tuned layers
    dual_steps: int = 300
    dual_batch: int = 32
    p_student: float = 0.5
    student_steps: int = 1200
    batch_size: int = 32
    lr: float = 1e-3
    student_init: str = "random"      # ours' layers: BERT's random init (the paper) or "teacher" (projected)
    projection_weight: float = 1.0    # used when projection_grid is empty
    projection_grid: list[float] = field(default_factory=lambda: [1.0, 0.1, 0.01])
    grid_steps: int = 250             # each grid student's steps; the lowest validation loss wins
    direction: str = "up"
    kd_weight: float = 0.5
    kd_init: str = "random"           # the teacher-vocabulary KD student: BERT's random init, or "teacher"
    dedup_threshold: float = 0.0      # > 0: test sentences with a near-copy among the training ones are dropped
    temperature: float = 1.0
    label_per_library: int = 100
    test_per_library: int = 0         # 0: every held-out sentence is a downstream test sentence
    finetune_epochs: int = 3
    finetune_patience: int = 0        # > 0: early stopping on the held-back sentences, finetune_epochs the cap
    probe_c_grid: list[float] = field(default_factory=list)  # empty: the probes use C = 1
    finetune_lr: float = 5e-4
    teacher_finetune_lr: float = 1e-4
    eval_sentences: int = 0           # about this many held-out sentences for masked-LM (0: all)
    sweep_hidden: list[int] = field(default_factory=list)
    coverage_sizes: list[int] = field(default_factory=lambda: [500, 1000, 2000, 4000, 8000])
    ablations: bool = True
    teacher_finetune: bool = True
    seed: int = 0


# the --help text of each field's flag (the formatter adds the accepted range and the default;
# where a default of 0 means "all" the text says so in words)
RUN_HELP: dict[str, str] = {
    "student_vocab": "word pieces in the students' WordPiece vocabulary, trained on the training sentences",
    "hidden": "students' hidden size (<= 384, the teacher's; a multiple of 32 from 64 on: 32-wide heads)",
    "layers": "students' transformer layers",
    "max_length": "word pieces per sentence, [CLS] and [SEP] included (longer sentences are cut at a word "
                  "boundary; at most 128, the students' positions)",
    "max_per_library": "docstring sentences kept per library (sets the corpus size)",
    "cache_sentences": "training sentences masked once and passed through the teacher for the "
                       "teacher-vocabulary KD student (default 0: all)",
    "teacher_steps": "steps of the teacher's continued masked-LM pre-training, head-only steps included "
                     "(cached outside the repository)",
    "teacher_head_steps": "first pre-training steps with the teacher's body frozen (the new MLM head alone "
                          "trains; at most --teacher-steps)",
    "val_sentences": "training sentences held back from every student for its validation curve and the "
                     "choice of the projection weight (0: none)",
    "eval_every": "validation every N student steps (0: none)",
    "tuned_layers": "top teacher layers tuned in dual training, the rest stay frozen (at most 6)",
    "dual_lr": "dual training's learning rate of the new student-piece embeddings and their output bias",
    "layer_lr": "dual training's learning rate of the pre-trained MLM head and the tuned teacher layers",
    "dual_steps": "dual-training steps of the teacher",
    "dual_batch": "sentences per dual-training batch",
    "p_student": "dual training: probability that a word is split with the student's vocabulary "
                 "(else the teacher's)",
    "student_steps": "training steps of every student (ours, scratch, KD, ablations, sweep)",
    "batch_size": "sentences per student training batch",
    "lr": "students' peak learning rate (AdamW, warm-up then linear decay)",
    "student_init": "layers of our student: random (BERT's init, as in the paper) or teacher "
                    "(the teacher's layers projected down)",
    "projection_weight": "weight of the shared-projection loss next to the masked-LM loss; used only "
                         "when --projection-grid is empty",
    "projection_grid": "projection-loss weights tried, space-separated; the one with the lowest validation "
                       "loss after --grid-steps wins (give the flag with no value to use --projection-weight)",
    "grid_steps": "training steps of each --projection-grid student",
    "direction": "projection loss: up (student weights projected into the teacher's space) or down "
                 "(teacher weights into the student's)",
    "kd_weight": "teacher-vocabulary KD student's loss: (1 - w) * masked-LM + w * logit KD",
    "temperature": "softmax temperature of the logit KD loss",
    "label_per_library": "labelled training sentences per library for the downstream task "
                         "(which library a sentence comes from)",
    "test_per_library": "downstream test sentences per library, from the held-out sentences (default 0: all)",
    "finetune_epochs": "epochs of downstream fine-tuning (with --finetune-patience: the most epochs)",
    "finetune_patience": "early stopping of fine-tuning: stop once accuracy on the held-back --val-sentences "
                         "(labelled by library) has not risen for this many epochs and test the best epoch's "
                         "weights (0: train exactly --finetune-epochs)",
    "probe_c_grid": "inverse regularisation strengths C tried by every linear probe, space-separated; the best "
                    "on the held-back --val-sentences wins (empty: C = 1)",
    "kd_init": "start of the teacher-vocabulary KD student: random (BERT's init) or teacher (as ours starts: "
               "the teacher's word table and MLM head projected down, the unigram prior as decoder bias)",
    "dedup_threshold": "drop every downstream and masked-LM test sentence whose words overlap a training "
                       "sentence's with Jaccard similarity at least this (0: keep all)",
    "finetune_lr": "students' downstream fine-tuning learning rate",
    "teacher_finetune_lr": "teacher's downstream fine-tuning learning rate",
    "eval_sentences": "about this many held-out sentences for masked-LM accuracy and perplexity, an equal "
                      "share per library (default 0: all)",
    "sweep_hidden": "extra student hidden sizes (none by default), space-separated: ours and scratch are "
                    "trained again at each",
    "coverage_sizes": "student vocabulary sizes whose coverage of the held-out words is reported, space-separated",
    "ablations": "train the two ablations (no projection loss; no dual training)",
    "teacher_finetune": "fine-tune the teacher on the downstream task too (else only its linear probe)",
}
