"""CLI: ``python -m companion.snn --data mnist5k --loss plain,kd,act,logits,kd+logits --seeds 0 1 2``.

Trains the teacher once per seed, one spiking student per loss and seed, prints the table
(mean +/- std over seeds, activity change against ``plain``) and writes it with save_results.
``--sweep act|logits|temperature --values ...`` trains one student per value instead (the Pareto sweep).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from companion.results import save_results
from companion.snn.losses import parse_loss
from companion.snn.train import DATASETS, load_split, predict_logits, run_variant, summarize, train_teacher
from companion.utils import Timer, progress, repo_path, torch_threads

SWEEPS = {"act": ("act", "act_lambda"), "logits": ("logits", "logits_lambda"), "temperature": ("kd", "temperature")}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m companion.snn", description=__doc__)
    p.add_argument("--data", default="mnist5k", choices=DATASETS)
    p.add_argument("--loss", default="plain,kd,act,logits,kd+act,kd+logits,kd+act+logits",
                   help="comma-separated loss specs, each terms joined by '+': plain, kd, act, logits")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--arch", default="mlp", choices=("mlp", "conv"))
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--n-test", type=int, default=None)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--teacher-epochs", type=int, default=5)
    p.add_argument("--num-steps", type=int, default=4)
    p.add_argument("--encoding", default="direct", choices=("direct", "rate"))
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--act-lambda", type=float, default=0.1)
    p.add_argument("--logits-lambda", type=float, default=1.0)
    p.add_argument("--sweep", choices=sorted(SWEEPS), default=None)
    p.add_argument("--values", type=float, nargs="+", default=None, help="the swept values")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--root", default=None, help="cifar10: the cifar-10-batches-py folder")
    p.add_argument("--out", default=None, help="JSON path (default book/01_snn/results/<data>_<table|sweep>.json)")
    args = p.parse_args(argv)
    if args.sweep and not args.values:
        p.error("--sweep needs --values")
    return args


def _jobs(args: argparse.Namespace) -> list[tuple[str, object, dict]]:
    common = dict(temperature=args.temperature, alpha=args.alpha)
    lambdas = dict(act_lambda=args.act_lambda, logits_lambda=args.logits_lambda)
    if args.sweep:
        spec, field = SWEEPS[args.sweep]
        return [(f"{spec}:{field}={v:g}", parse_loss(spec, **{**lambdas, **common, field: v}), {field: v})
                for v in args.values]
    return [(spec, parse_loss(spec, **lambdas, **common), {}) for spec in args.loss.split(",")]


def main(argv: Sequence[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    kw = {} if args.data != "cifar10" else {"root": args.root}
    split = load_split(args.data, args.n_train, args.n_test, **kw)
    jobs = _jobs(args)
    rows = []
    with Timer() as timer, torch_threads(args.threads or __import__("torch").get_num_threads()):
        for seed in progress(args.seeds, desc="seeds"):
            teacher, hist = train_teacher(split, args.arch, epochs=args.teacher_epochs, seed=seed, batch_size=32,
                                          desc=f"teacher seed {seed}")
            t_logits = predict_logits(teacher, split["x_train"])
            rows.append({"loss": "teacher (ANN)", "seed": seed, "accuracy": hist.last("test_acc")})
            for name, cfg, extra in jobs:
                row = run_variant(split, cfg, t_logits if cfg.kd else None, seed, arch=args.arch,
                                  num_steps=args.num_steps, encoding=args.encoding, epochs=args.epochs,
                                  lr=2e-3, batch_size=32)
                rows.append({**row, "loss": name if args.sweep else row["loss"], **extra})
                print(f"seed {seed} {rows[-1]['loss']:>24s}: acc {row['accuracy']:.4f} "
                      f"rate {row['rate']:.4f} spikes/sample {row['spikes_per_sample']:.1f}", flush=True)
    students = [r for r in rows if r["loss"] != "teacher (ANN)"]
    table = summarize(students)
    teacher_acc = [r["accuracy"] for r in rows if r["loss"] == "teacher (ANN)"]
    print(f"\n{'loss':>24s} {'accuracy':>16s} {'rate':>16s} {'spikes/sample':>14s} {'activity %':>10s}")
    for r in table:
        print(f"{r['loss']:>24s} {r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f} "
              f"{r['rate_mean']:.4f} ± {r['rate_std']:.4f} {r['spikes_per_sample_mean']:14.1f} "
              f"{r.get('activity_change_pct', float('nan')):10.2f}")
    out = args.out or repo_path("book", "01_snn", "results", f"{args.data}_{'sweep_' + args.sweep if args.sweep else 'table'}.json")
    save_results(out, rows, seeds=args.seeds, command="python -m companion.snn " + " ".join(argv if argv is not None else sys.argv[1:]),
                 wall_seconds=timer.seconds, packages=("torch", "numpy", "snntorch"), summary=table,
                 teacher_accuracy=teacher_acc, settings={k: v for k, v in vars(args).items() if k != "out"})
    return rows


if __name__ == "__main__":
    main()
