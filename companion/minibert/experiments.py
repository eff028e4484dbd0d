"""The chapter's full experiment: the pre-trained teacher, dual training, students, sizes and the
downstream task."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import torch
from transformers import BertConfig

from companion import data
from companion.minibert.config import RunConfig  # there, not here: the CLI's --help reads it without transformers
from companion.minibert.distill import student_predict, train_student_logit_kd, train_student_mlm
from companion.minibert.downstream import fine_tune, linear_probe
from companion.minibert.mixed import MixedTokenizer, SingleTokenizer, piece_log_prior
from companion.minibert.pretrain import TeacherConfig, load_or_pretrain_teacher
from companion.minibert.projection import build_mixed_student
from companion.minibert.size import bert_parameter_count, count_parameters, size_report
from companion.minibert.splits import downstream_split, split_digest
from companion.minibert.student import build_student, student_config
from companion.minibert.teacher import (DualTeacher, cache_masked_batches, cached_teacher_logits, dual_train,
                                        init_student_embeddings, masked_eval_batches, mlm_metrics, teacher_predict)
from companion.minibert.vocab import train_student_vocab, vocab_coverage
from companion.utils import seed_everything


# BERT-base (uncased; 12 layers, hidden 768, 30,522 pieces) with its pooler and without an MLM
# head: the paper's reference point for its compression ratio (about 110 M parameters)
BERT_BASE_PARAMETERS = bert_parameter_count(BertConfig(), mlm_head=False, pooler=True)


class VocabTooLarge(ValueError):
    """``student_vocab`` asks for more pieces than the training sentences give."""


def curve(history: dict[str, list[float]], points: int = 200) -> dict[str, list[float]]:
    """A training history thinned to about ``points`` values per series (for the results file)."""
    return {k: v[:: max(1, len(v) // points)] for k, v in history.items()}


def run(cfg: RunConfig, log: Callable[[str], None] = print, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Run everything for the seed ``cfg.seed`` on ``device`` (the CLI's ``--device``: the models
    live there; tokenizing, masking and every random draw stay on the CPU); returns JSON-ready
    ``rows``, ``coverage``, ``corpus`` and ``config``.

    One row per trained model: ``method`` (``teacher``, ``ours``, ``scratch``, ``teacher-vocab
    KD``, the two ablations), ``setting`` ``{"hidden": h}`` (the hidden-size sweep repeats ``ours``
    and ``scratch``), ``model`` (a longer label), the size and quality metrics, and its training
    ``curve``; the teacher's row also holds ``dual_training`` (its masked-LM quality before and
    after dual training).
    """
    seed_everything(cfg.seed)
    t0 = time.perf_counter()
    split = downstream_split(cfg)
    corpus, train_x, val_x = split["corpus"], split["train_x"], split["val_x"]
    held = split["mlm_eval"]
    n_libs = len(corpus["libraries"])
    log(f"corpus: {len(train_x)} train / {len(val_x)} validation / {len(corpus['held_out'])} held-out sentences, "
        f"{n_libs} libraries")

    # --- vocabularies (the student's first: a too-large vocab_size fails before the teacher loads) ---
    s_tokenizer = train_student_vocab(train_x, cfg.student_vocab)
    if s_tokenizer.get_vocab_size() != cfg.student_vocab:
        raise VocabTooLarge(f"student_vocab={cfg.student_vocab}, but the {len(train_x)} training sentences give "
                            f"only {s_tokenizer.get_vocab_size()} word pieces: choose at most that many")
    teacher_pack = data.load("minilm")
    t_tokenizer = teacher_pack["tokenizer"]
    coverage = [{"vocab": "teacher (MiniLM)", **vocab_coverage(t_tokenizer, held)}]
    for v in cfg.coverage_sizes:
        coverage.append({"vocab": f"student {v}", **vocab_coverage(train_student_vocab(train_x, v), held)})
    t_single = SingleTokenizer(t_tokenizer, cfg.max_length)
    s_single = SingleTokenizer(s_tokenizer, cfg.max_length)
    mixed = MixedTokenizer(t_tokenizer, s_tokenizer, cfg.p_student, cfg.max_length)

    # --- teacher: continued MLM pre-training (cached), then dual training -------------------------
    # the same teacher for every seed and every student setting: the pre-training CLI's, on all
    # training sentences in corpus order (its weights are cached outside the repository)
    t_cfg = TeacherConfig(steps=cfg.teacher_steps, head_steps=cfg.teacher_head_steps, max_length=cfg.max_length,
                          max_per_library=cfg.max_per_library)
    mlm, t_record = load_or_pretrain_teacher(teacher_pack["model"], t_single, corpus["train"], t_cfg, log=log,
                                             device=device)
    bert = mlm.bert
    t_params = count_parameters(mlm)
    t_disk_mb = sum(f.stat().st_size for f in (Path(t_record["path"]) / "model").glob("*.safetensors")) / 1e6
    cache = cache_masked_batches(bert, t_single, train_x[: cfg.cache_sentences or None], cfg.batch_size, seed=cfg.seed,
                                 frozen_layers=bert.config.num_hidden_layers - cfg.tuned_layers)
    s_init, exact_share = init_student_embeddings(t_tokenizer, s_tokenizer, bert.embeddings.word_embeddings.weight)
    teacher = DualTeacher.from_masked_lm(mlm, s_init, cfg.tuned_layers)
    t_eval = masked_eval_batches(t_single.encode, t_single.mask_id, held)
    t_val = masked_eval_batches(t_single.encode, t_single.mask_id, val_x, seed=cfg.seed)
    # the same held-out sentences fed to the teacher in the student's vocabulary (p_student = 1)
    pure_student = lambda xs: mixed.encode(xs, p_student=1.0)  # noqa: E731
    ts_eval = masked_eval_batches(pure_student, mixed.teacher.mask_id, held)
    ts_val = masked_eval_batches(pure_student, mixed.teacher.mask_id, val_x, seed=cfg.seed)

    def dual_quality() -> dict:
        """The teacher's masked-LM on its own pieces and on all-student-piece sentences, held out
        and on the validation sentences."""
        return {"teacher_vocab": mlm_metrics(teacher_predict(teacher), t_eval),
                "student_vocab": mlm_metrics(teacher_predict(teacher, "student"), ts_eval),
                "validation": {"teacher_vocab": mlm_metrics(teacher_predict(teacher), t_val),
                               "student_vocab": mlm_metrics(teacher_predict(teacher, "student"), ts_val)}}

    before = dual_quality()
    log(f"pre-trained teacher; before dual training: {before}")
    # the head as it was before dual training (the no-dual-training ablation starts its student from it)
    head_before, bias_before = copy.deepcopy(teacher.transform), teacher.student_bias.detach().clone()
    dual_hist = dual_train(teacher, mixed, train_x, cfg.dual_steps, cfg.dual_batch, lr=cfg.dual_lr, layer_lr=cfg.layer_lr,
                           seed=cfg.seed)
    after = dual_quality()
    log(f"after dual training: {after}")

    # --- shared pieces for the students ------------------------------------------------------------
    s_eval = masked_eval_batches(s_single.encode, s_single.mask_id, held)
    s_val = masked_eval_batches(s_single.encode, s_single.mask_id, val_x, seed=cfg.seed)
    # the teacher-derived students' head: unigram log-prior as decoder bias, and the scale of the
    # projected teacher head chosen on 256 masked *training* sentences (see build_mixed_student)
    s_prior = piece_log_prior(s_single, train_x)
    s_calib = masked_eval_batches(s_single.encode, s_single.mask_id, train_x[:256], seed=cfg.seed)
    lab_x, lab_y, test_x, test_y = split["lab_x"], split["lab_y"], split["test_x"], split["test_y"]
    teacher_logits = lambda batch: cached_teacher_logits(teacher, batch)  # noqa: E731

    def downstream(encoder, single: SingleTokenizer, lr: float | None) -> dict:
        """Probe and fine-tuned accuracy, and the share of test sentences on which the two
        predict the same library (two separate measurements: equal accuracies can coincide)."""
        probe = linear_probe(encoder, single.encode, lab_x, lab_y, test_x, test_y, c_grid=cfg.probe_c_grid,
                             val_x=split["val_x"], val_y=split["val_y"])
        # per-sentence predictions, for paired tests between models on the same test sentences
        out = {"probe_accuracy": probe["accuracy"], "finetune_accuracy": None,
               "probe_predictions": probe["predictions"]}
        if cfg.probe_c_grid:
            out["probe_c"] = probe["c"]
        if lr is not None:
            tuned = fine_tune(encoder, single.encode, lab_x, lab_y, test_x, test_y, cfg.finetune_epochs, lr,
                              seed=cfg.seed, val_x=split["val_x"], val_y=split["val_y"],
                              patience=cfg.finetune_patience)
            agree = sum(a == b for a, b in zip(probe["predictions"], tuned["predictions"])) / len(test_y)
            out.update(finetune_accuracy=tuned["accuracy"], probe_finetune_agreement=agree,
                       finetune_predictions=tuned["predictions"])
            if cfg.finetune_patience:
                out.update(finetune_best_epoch=tuned["best_epoch"], finetune_epochs_run=tuned["epochs_run"],
                           finetune_val_accuracy=tuned["val_accuracy"])
        return out

    def evaluate(method: str, name: str, model, single: SingleTokenizer, eval_batches, extra: dict) -> dict:
        t = time.perf_counter()
        size = size_report(model, t_params)
        row = {"setting": {"hidden": model.config.hidden_size}, "method": method, "seed": cfg.seed, "model": name,
               **size, "compression_bert_base": BERT_BASE_PARAMETERS / size["parameters"],
               **mlm_metrics(student_predict(model), eval_batches),
               "vocab_size": single.vocab_size, "hidden": model.config.hidden_size,
               **downstream(model.bert, single, cfg.finetune_lr), **extra}
        shown = {k: v for k, v in row.items() if k not in ("model", "curve", "setting") and not k.endswith("predictions")}
        log(f"{name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
            + f"  ({time.perf_counter() - t:.0f} s eval)")
        return row

    def mixed_student(hidden: int, dual: bool, proj_weight: float, method: str, tag: str, steps: int | None = None,
                      extra: dict | None = None) -> dict:
        """Build, train and evaluate a teacher-derived student; with ``steps`` (a grid point) only
        build and train it, and return its training history."""
        conf = student_config(cfg.student_vocab, hidden, cfg.layers)
        # the teacher's table and MLM head after dual training, or as they were before it
        table, head, bias = ((teacher.student_embeddings, teacher.transform, teacher.student_bias) if dual
                             else (s_init, head_before, bias_before))
        student, proj, calib = build_mixed_student(conf, bert, table, head[0], head[2], bias, cfg.seed,
                                                   prior=s_prior, calibration=s_calib,
                                                   body=cfg.student_init == "teacher")
        if steps is not None:
            return train_student_mlm(student, s_single, train_x, steps, cfg.batch_size, cfg.lr, cfg.seed,
                                     teacher_bert=bert, projections=proj, projection_weight=proj_weight,
                                     direction=cfg.direction, desc=tag, validation=s_val, eval_every=steps)
        student.eval()  # the starting loss without dropout (and without drawing from the generator)
        start = mlm_metrics(student_predict(student), s_eval)
        t = time.perf_counter()
        hist = train_student_mlm(student, s_single, train_x, cfg.student_steps, cfg.batch_size, cfg.lr, cfg.seed,
                                 teacher_bert=bert, projections=proj, projection_weight=proj_weight,
                                 direction=cfg.direction, desc=tag, validation=s_val, eval_every=cfg.eval_every)
        return evaluate(method, tag, student, s_single, s_eval,
                        {"train_seconds": time.perf_counter() - t, "kind": "mixed", "dual": dual,
                         "start_loss": math.log(start["perplexity"]), "head_scale": calib["scale"],
                         "projection_weight": proj_weight, **(extra or {}), "curve": curve(hist)})

    def scratch_student(hidden: int, tag: str) -> dict:
        torch.manual_seed(cfg.seed)
        student = build_student(student_config(cfg.student_vocab, hidden, cfg.layers)).to(device).eval()
        start = mlm_metrics(student_predict(student), s_eval)
        t = time.perf_counter()
        hist = train_student_mlm(student, s_single, train_x, cfg.student_steps, cfg.batch_size, cfg.lr, cfg.seed, desc=tag,
                                 validation=s_val, eval_every=cfg.eval_every)
        return evaluate("scratch", tag, student, s_single, s_eval,
                        {"train_seconds": time.perf_counter() - t, "kind": "scratch",
                         "start_loss": math.log(start["perplexity"]), "curve": curve(hist)})

    rows = []
    # the teacher itself: pre-trained on masked-LM, then dual-trained (this seed's dual training)
    rows.append({"setting": {"hidden": bert.config.hidden_size}, "method": "teacher", "seed": cfg.seed,
                 "model": "teacher: all-MiniLM-L6-v2, continued MLM + dual training", "kind": "teacher",
                 "parameters": t_params, "embedding_parameters": bert.embeddings.word_embeddings.weight.numel(),
                 "memory_mb": 4 * t_params / 1e6, "disk_mb": t_disk_mb, "compression": 1.0,
                 "compression_bert_base": BERT_BASE_PARAMETERS / t_params,
                 "vocab_size": t_single.vocab_size, "hidden": bert.config.hidden_size,
                 **mlm_metrics(teacher_predict(teacher), t_eval),
                 **downstream(bert, t_single, cfg.teacher_finetune_lr if cfg.teacher_finetune else None),
                 # which sentences this seed's downstream task used (the text baselines record it too)
                 "downstream_digest": split_digest(lab_x, test_x),
                 "teacher_pretraining": {"key": t_record["key"], "steps": t_record["steps"],
                                         "seconds": t_record["seconds"], "cpu_seconds": t_record["cpu_seconds"],
                                         "loaded_from_cache": t_record["cached"]},
                 "curve": {"dual": dual_hist},
                 "dual_training": {"before": before, "after": after, "exact_share": exact_share}})
    log(f"teacher row: { {k: v for k, v in rows[-1].items() if k != 'curve' and not k.endswith('predictions')} }")
    # the projection loss's weight (the paper gives none that we found), chosen per seed on the
    # validation sentences: the masked-LM loss after a short run of ours at each grid weight
    grid = [{"projection_weight": w,
             "val_loss": mixed_student(cfg.hidden, True, w, "ours", f"grid: projection weight {w:g}",
                                       steps=cfg.grid_steps)["val_loss"][-1]}
            for w in dict.fromkeys(cfg.projection_grid)]
    weight = min(grid, key=lambda g: g["val_loss"])["projection_weight"] if grid else cfg.projection_weight
    log(f"projection weight {weight:g} chosen on validation: {grid}")
    chosen = {"projection_grid": grid, "grid_steps": cfg.grid_steps if grid else 0}
    rows.append(mixed_student(cfg.hidden, True, weight, "ours", "ours: mixed vocab (dual training + projections)",
                              extra=chosen))
    rows.append(scratch_student(cfg.hidden, "same student from scratch"))
    # the same student shape on the teacher's vocabulary, trained with plain logit KD
    kd_conf = student_config(t_single.vocab_size, cfg.hidden, cfg.layers)
    kd_extra = {}
    if cfg.kd_init == "teacher":
        # ours' start in the teacher's vocabulary: its word table and dual-trained head projected
        # down, the unigram prior as decoder bias, the head's scale calibrated on training sentences
        kd_student, _, kd_calib = build_mixed_student(
            kd_conf, bert, teacher.teacher_embeddings, teacher.transform[0], teacher.transform[2],
            teacher.teacher_bias, cfg.seed, prior=piece_log_prior(t_single, train_x),
            calibration=masked_eval_batches(t_single.encode, t_single.mask_id, train_x[:256], seed=cfg.seed),
            body=cfg.student_init == "teacher")
        kd_extra = {"kd_init": "teacher", "head_scale": kd_calib["scale"]}
    else:
        torch.manual_seed(cfg.seed)
        kd_student = build_student(kd_conf).to(device)
    t = time.perf_counter()
    hist = train_student_logit_kd(kd_student, cache, teacher_logits, cfg.student_steps, cfg.lr, cfg.seed,
                                  cfg.kd_weight, cfg.temperature, validation=t_val, eval_every=cfg.eval_every)
    rows.append(evaluate("teacher-vocab KD", "teacher vocab + logit KD", kd_student, t_single, t_eval,
                         {"train_seconds": time.perf_counter() - t, "kind": "logit-kd", **kd_extra,
                          "curve": curve(hist)}))
    if cfg.ablations:
        rows.append(mixed_student(cfg.hidden, True, 0.0, "ablation: no projection loss",
                                  "ablation: dual training, no projection loss"))
        rows.append(mixed_student(cfg.hidden, False, weight, "ablation: no dual training",
                                  "ablation: projections, no dual training"))
    for h in dict.fromkeys(cfg.sweep_hidden):  # the size sweep: ours and scratch at other hidden sizes
        if h != cfg.hidden:
            rows.append(mixed_student(h, True, weight, "ours", f"mixed h={h}"))
            rows.append(scratch_student(h, f"scratch h={h}"))
    return {"rows": rows, "coverage": [{"seed": cfg.seed, **c} for c in coverage],
            "corpus": {"train": len(train_x), "held_out": len(corpus["held_out"]), "libraries": corpus["libraries"],
                       "labelled_train": len(lab_x), "downstream_test": len(test_x), "mlm_eval": len(held),
                       **({"dropped_near_duplicates": split["dropped_near_duplicates"]}
                          if cfg.dedup_threshold > 0 else {})},
            "config": {k: v for k, v in asdict(cfg).items() if k != "seed"}, "seconds": time.perf_counter() - t0}
