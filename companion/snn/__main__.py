"""CLI: ``python -m companion.snn --data mnist5k --loss plain kd act logits kd+logits --seeds 0 1 2``.

Trains the teacher once per seed, one spiking student per loss and seed, prints the table
(mean +/- std over seeds, activity change against ``plain``) and writes
``./results/<data>_table.json`` (``--out`` elsewhere, ``--publish`` into ``book/01_snn/results/``).
``--sweep act|logits|temperature --values ...`` trains one student per value instead, scores
it on the *validation* split (``--val-fraction`` of the training rows, never the test set),
applies the chapter's selection rule (:func:`companion.snn.train.choose_from_sweep`) and writes
``<data>_sweep_<sweep>.json`` with the grid and the choice. The table scores on the test set.
``--readout spike`` (the ablation) writes ``<data>_table_spike_readout.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from companion.cli import (RunProgress, add_list_argument, chapter_parser, cli_entry, float_in, int_at_least,
                           require_packages, run_seeds, start_run, str_list)
from companion.results import mean_std_text, save_results
from companion.snn.losses import LossConfig, parse_loss
from companion.snn.models import READOUTS
from companion.snn.train import (DATASETS, choose_from_sweep, load_split, predict_logits, run_variant, summarize,
                                 train_teacher)

# sweep name -> (the loss it trains, the LossConfig field it varies)
SWEEPS = {"act": ("act", "act_lambda"), "logits": ("logits", "logits_lambda"), "temperature": ("kd", "temperature")}
DEFAULT_LOSSES = ["plain", "kd", "act", "logits", "kd+act", "kd+logits", "kd+act+logits"]
# (train, test) sizes of the fixed splits; cifar10's depend on the local files and are checked on load
SIZES = {"mnist5k": (4000, 1000), "digits": (1437, 360)}
TEACHER = "teacher (ANN)"
# the teacher: a small conventional conv net, wider than any student (a clearly stronger teacher)
TEACHER_KWARGS = {"channels": (16, 32), "hidden": 128}
# higher_is_better of every metric of a row (per-layer rates are added when seen)
METRICS = {"accuracy": True, "rate": False, "spikes_per_sample": False, "tied_argmax": False}
LR, BATCH_SIZE = 2e-3, 32


EXAMPLES = [
    "python -m companion.snn --data digits --teacher-arch conv --teacher-epochs 30 --temperature 1.0 "
    "--act-lambda 1.0 --logits-lambda 1.0 --threads 1",
    "python -m companion.snn --data digits --teacher-arch conv --teacher-epochs 30 --sweep act "
    "--values 0.1 0.3 1 3 10 --threads 1",
]


def _loss_spec(text: str) -> list[str]:
    """A list flag's item type: loss specs (old comma lists too), each checked by :func:`parse_loss`."""
    specs = str_list()(text)  # keeps str_list's marker, so that FlattenList notes an old comma list
    for spec in specs:
        try:
            parse_loss(spec)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return specs


_loss_spec.__name__ = "names joining plain, kd, act, logits with '+'"  # what --help says it accepts


_POSITIVE = float_in(0, 1e3, low_open=True)


def _swept_value(text: str) -> list[float]:
    """A list flag's item type: numbers in (0, 1000] (old comma lists too)."""
    values = str_list()(text)  # splits an old comma list and keeps the marker for FlattenList's note
    values[:] = [_POSITIVE(v) for v in values]
    return values


_swept_value.__name__ = _POSITIVE.__name__.replace("number", "numbers", 1)


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.snn", __doc__.split("\n\n")[0], seeds=(0, 1, 2), examples=EXAMPLES)
    p.add_argument("--data", default="mnist5k", choices=DATASETS,
                   help="data set: mnist5k (4000 train / 1000 test MNIST images), digits (sklearn's 8x8 digits, "
                        "80/20 split) or cifar10 (local files, see --root)")
    p.add_argument("--root", default=None, help="cifar10 only: the cifar-10-batches-py folder (never downloaded)")
    add_list_argument(p, "--loss", _loss_spec, default=None,
                      help="the students to train, one loss spec each, space-separated (e.g. plain kd+logits); "
                           f"not with --sweep (default: {' '.join(DEFAULT_LOSSES)})")
    p.add_argument("--arch", default="mlp", choices=("mlp", "conv"),
                   help="the spiking student: mlp (LIF hidden layers 256, 128) or conv (two conv-LIF-pool blocks)")
    p.add_argument("--readout", default="mean", choices=READOUTS,
                   help="mean: plain Linear readout averaged over time (the authors' framework); "
                        "spike: a LIF output layer, logits = spike counts (the ablation)")
    p.add_argument("--teacher-arch", default="conv", choices=("mlp", "conv"),
                   help="the conventional (ReLU) teacher: conv has channels 16, 32 and hidden 128; "
                        "mlp the student's layer sizes")
    p.add_argument("--val-fraction", type=float_in(0, 0.5, low_open=True), default=0.2,
                   help="share of the training rows held out for validation (sweeps score on it)")
    p.add_argument("--tolerance", type=float_in(0, 1), default=0.01,
                   help="selection rule of a regularizer sweep: the largest weight whose validation accuracy "
                        "is within this (accuracy as a fraction) of plain's")
    p.add_argument("--n-train", type=int_at_least(1), default=None,
                   help="keep the first N training images (default: all)")
    p.add_argument("--n-test", type=int_at_least(1), default=None, help="keep the first N test images (default: all)")
    p.add_argument("--epochs", type=int_at_least(1), default=5, help="training epochs of each student")
    p.add_argument("--teacher-epochs", type=int_at_least(1), default=10, help="training epochs of the teacher")
    p.add_argument("--reg-warmup", type=int_at_least(0), default=1,
                   help="epochs of the task loss alone before the regularizers switch on (< --epochs)")
    p.add_argument("--num-steps", type=int_at_least(1), default=4,
                   help="time steps T each input is presented for")
    p.add_argument("--encoding", default="direct", choices=("direct", "rate"),
                   help="input coding: direct (the analog image at every step) or rate (Bernoulli spikes "
                        "with the pixel value as probability)")
    p.add_argument("--temperature", type=float_in(0, 1e3, low_open=True), default=2.0,
                   help="KD temperature tau (softens teacher and student logits)")
    p.add_argument("--alpha", type=float_in(0, 1), default=0.5,
                   help="KD weight of the soft (teacher) term; 1 - alpha weighs the cross-entropy on labels")
    p.add_argument("--act-lambda", type=float_in(0, 1e3, low_open=True), default=0.1,
                   help="weight of the activation regularizer (L1 on hidden spike rates) in losses with act")
    p.add_argument("--logits-lambda", type=float_in(0, 1e3, low_open=True), default=1.0,
                   help="weight of the logits regularizer (L2 on the output logits) in losses with logits")
    p.add_argument("--sweep", choices=sorted(SWEEPS), default=None,
                   help="train one student per --values: act and logits vary that loss's weight (plus a plain "
                        "reference), temperature varies kd's temperature; scored on validation")
    add_list_argument(p, "--values", _swept_value, default=None,
                      help="the swept values (weights or temperatures), space-separated")
    return p


def _check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks, all before any data is loaded or any network trained."""
    if args.sweep and not args.values:
        p.error("--sweep needs --values")
    if args.values and not args.sweep:
        p.error("--values needs --sweep act|logits|temperature")
    if args.sweep and args.loss is not None:
        p.error(f"--loss and --sweep are exclusive: --sweep {args.sweep} trains the "
                f"'{SWEEPS[args.sweep][0]}' loss at each of --values")
    if args.loss is not None and len(set(args.loss)) != len(args.loss):
        p.error(f"--loss: each loss once, got {' '.join(args.loss)}")
    if args.values and len(set(args.values)) != len(args.values):
        p.error(f"--values: each value once, got {args.values}")
    if args.data == "cifar10":
        if args.root is None:
            p.error("--data cifar10 needs --root <the cifar-10-batches-py folder> (never downloaded here)")
        if not Path(args.root).expanduser().is_dir():
            p.error(f"--root {args.root}: no such folder (expected the cifar-10-batches-py folder)")
    elif args.root is not None:
        p.error(f"--root is for --data cifar10 only; {args.data} ships with the package")
    if args.data in SIZES:
        for flag, n, most in (("--n-train", args.n_train, SIZES[args.data][0]),
                              ("--n-test", args.n_test, SIZES[args.data][1])):
            if n is not None and n > most:
                p.error(f"{flag} {n}: {args.data} has {most} images in that split")
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds: each seed once, got {args.seeds}")
    regularized = [cfg.name for _, _, cfg in _jobs(args) if cfg.act_lambda > 0 or cfg.logits_lambda > 0]
    if regularized and args.reg_warmup >= args.epochs:
        p.error(f"--epochs {args.epochs} leaves no epoch for the regularizers of {regularized[0]!r} after "
                f"--reg-warmup {args.reg_warmup}: give --epochs > --reg-warmup")


def _jobs(args: argparse.Namespace) -> list[tuple[Any, str, LossConfig]]:
    """``(setting, method, LossConfig)`` per student: the losses, or one per swept value."""
    common = dict(temperature=args.temperature, alpha=args.alpha)
    lambdas = dict(act_lambda=args.act_lambda, logits_lambda=args.logits_lambda)
    if args.sweep:
        spec, field = SWEEPS[args.sweep]
        ref = [] if args.sweep == "temperature" else [("", "plain", parse_loss("plain", **lambdas, **common))]
        return ref + [({field: v}, spec, parse_loss(spec, **{**lambdas, **common, field: v})) for v in args.values]
    return [("", spec, parse_loss(spec, **lambdas, **common)) for spec in (args.loss or DEFAULT_LOSSES)]


def default_filename(args: argparse.Namespace) -> str:
    """``<data>_table.json`` or ``<data>_sweep_<sweep>.json`` (``_spike_readout`` added for the ablation)."""
    tail = "" if args.readout == "mean" else f"_{args.readout}_readout"
    return f"{args.data}_{'sweep_' + args.sweep if args.sweep else 'table'}{tail}.json"


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the CLI; returns the path of the written results file."""
    p = build_parser()
    args = p.parse_args(argv)
    require_packages(p, "snntorch")  # every student is built of snntorch Leaky neurons
    _check_args(p, args)
    run = start_run(p, args, module="companion.snn", chapter="01_snn", argv=argv, one_file=True)
    try:  # cifar10's sizes are only known from its files: a bad one is still a flag error
        split = load_split(args.data, args.n_train, args.n_test, val_fraction=args.val_fraction,
                           **({"root": args.root} if args.data == "cifar10" else {}))
    except (ValueError, FileNotFoundError) as e:
        p.error(f"--data {args.data}: {e}".replace("n_train", "--n-train").replace("n_test", "--n-test"))
    split = {k: v.to(run.device) for k, v in split.items()}  # the networks follow their data (--device)
    jobs = _jobs(args)
    eval_on = "val" if args.sweep else "test"
    name = default_filename(args)
    # a seed trains a teacher and every student: each finished seed is kept, and a rerun of the same
    # command resumes after it (the teacher's accuracy is in the seed's rows)
    ckpt = run.checkpoint(name)
    with run.progress(len(run.seeds) * len(jobs)) as display:  # a unit: one student of one seed
        rows = run_seeds(run.seeds, lambda seed: _seed_rows(args, split, jobs, seed, eval_on, display),
                         checkpoint=ckpt, display=display, units=len(jobs))
    _print_table(rows)
    extra: dict[str, Any] = {"scored_on": "validation" if eval_on == "val" else "test"}
    if args.sweep:
        choice = choose_from_sweep([r for r in rows if r["method"] != TEACHER], SWEEPS[args.sweep][1],
                                   args.tolerance)
        print(f"chosen on validation: {choice['field']} = {choice['value']:g} ({choice['rule']})")
        extra["choice"] = choice
    metrics = dict(METRICS)
    for r in rows:  # the per-layer rates, "rate/lifs.0", ...
        metrics.update({k: False for k in r if k.startswith("rate/")})
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "publish", "no_progress")}
    path = save_results(run.path(name), rows, seeds=run.seeds, command=run.command,
                        metrics=metrics, wall_seconds=run.wall_seconds,
                        packages=("torch", "numpy", "snntorch"), settings=settings, **extra)
    ckpt.finish()
    return path


def _seed_rows(args: argparse.Namespace, split: dict, jobs: list[tuple[Any, str, LossConfig]], seed: int,
               eval_on: str, display: RunProgress | None = None) -> list[dict[str, Any]]:
    """One seed's rows: the teacher's accuracy, then one row per student (each printed, and counted
    on ``display``, as it ends)."""
    teacher, hist = train_teacher(split, args.teacher_arch, epochs=args.teacher_epochs, seed=seed,
                                  batch_size=BATCH_SIZE, desc=f"teacher seed {seed}",
                                  **(TEACHER_KWARGS if args.teacher_arch == "conv" else {}))
    t_logits = predict_logits(teacher, split["x_train"])
    rows = [{"setting": "", "method": TEACHER, "seed": seed,
             "accuracy": hist.last("val_acc" if eval_on == "val" else "test_acc")}]
    for setting, method, cfg in jobs:
        row = run_variant(split, cfg, t_logits if cfg.kd else None, seed, eval_on=eval_on, arch=args.arch,
                          num_steps=args.num_steps, encoding=args.encoding, epochs=args.epochs,
                          lr=LR, batch_size=BATCH_SIZE, reg_warmup=args.reg_warmup, readout=args.readout)
        row.pop("loss")
        rows.append({"setting": setting, "method": method, **row, "split": eval_on,
                     **(setting if isinstance(setting, dict) else {})})
        label = method + "".join(f" {k}={v:g}" for k, v in (setting or {}).items())
        print(f"seed {seed} {label:>24s}: acc {row['accuracy']:.4f} "
              f"rate {row['rate']:.4f} spikes/sample {row['spikes_per_sample']:.1f}", flush=True)
        if display is not None:
            display.done(f"seed {seed}, {label}")
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    students = [{**r, "loss": r["method"] + "".join(f" {k}={v:g}" for k, v in (r["setting"] or {}).items())}
                for r in rows if r["method"] != TEACHER]
    teacher = [r["accuracy"] for r in rows if r["method"] == TEACHER]
    print(f"\nteacher accuracy: {sum(teacher) / len(teacher):.4f} over {len(teacher)} seed(s)")
    print(f"{'loss':>24s} {'accuracy':>16s} {'rate':>16s} {'spikes/sample':>14s} {'activity %':>10s}")
    for r in summarize(students):
        change = r.get("activity_change_pct")
        print(f"{r['loss']:>24s} {mean_std_text(r['accuracy_mean'], r['accuracy_std'], 4):>16s} "
              f"{mean_std_text(r['rate_mean'], r['rate_std'], 4):>16s} {r['spikes_per_sample_mean']:14.1f} "
              f"{'—' if change is None else f'{change:.2f}':>10s}")


if __name__ == "__main__":
    sys.exit(cli_entry(main))
