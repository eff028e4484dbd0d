"""CLI: ``python -m companion.advgan --data mnist5k --mode all`` prints the attack table and writes JSON.

The JSON goes to ``book/09_advgan/results/advgan_<data>_<mode>.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from companion import utils
from companion.advgan.experiment import MODES, Config, config_dict, run_table
from companion.results import save_results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m companion.advgan", description=__doc__)
    d = Config()
    p.add_argument("--data", default=d.data, choices=("mnist5k", "digits"))
    p.add_argument("--mode", default=d.mode, choices=MODES)
    p.add_argument("--eps", type=float, default=d.eps)
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--n-test", type=int, default=None)
    p.add_argument("--target-epochs", type=int, default=d.target_epochs)
    p.add_argument("--at-epochs", type=int, default=d.at_epochs)
    p.add_argument("--at-steps", type=int, default=d.at_steps)
    p.add_argument("--pgd-steps", type=int, default=d.pgd_steps)
    p.add_argument("--gan-epochs", type=int, default=d.gan_epochs)
    p.add_argument("--static-epochs", type=int, default=d.static_epochs)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    cfg = Config(data=args.data, mode=args.mode, eps=args.eps, n_train=args.n_train, n_test=args.n_test,
                 target_epochs=args.target_epochs, at_epochs=args.at_epochs, at_steps=args.at_steps,
                 pgd_steps=args.pgd_steps, gan_epochs=args.gan_epochs, static_epochs=args.static_epochs,
                 width=args.width, seed=args.seed)
    with utils.Timer() as t:
        rows, clean = run_table(cfg)
    print(f"clean accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in clean.items()))
    print(f"{'target':12s} {'attack':24s} {'success':>8s} {'L2':>6s} {'Linf':>5s} {'ms/example':>10s}")
    for r in rows:
        print(f"{r['target']:12s} {r['attack']:24s} {r['success_rate']:8.3f} {r['l2']:6.2f} {r['linf']:5.2f} "
              f"{r['ms_per_example']:10.3f}")
    out = args.out or utils.repo_path("book", "09_advgan", "results", f"advgan_{args.data}_{args.mode}.json")
    command = "python -m companion.advgan " + " ".join(argv if argv is not None else sys.argv[1:])
    save_results(out, rows, seeds=[cfg.seed], command=command, wall_seconds=t.seconds,
                 config=config_dict(cfg), clean_accuracy=clean)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
