"""CLI: run our tracker, its ablations and OpenCV's trackers on named sequences; print and save the table.

    python -m companion.tracking --sequence all --frames 120 --out book/11_tracking/results/otb_table.json
    python -m companion.tracking --sequence Basketball --otb-root ~/data/otb      # a real OTB sequence
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from companion import data
from companion.data.tracking_sequences import SEQUENCES
from companion.results import save_results
from companion.tracking.evaluate import summarize, track_all
from companion.utils import progress, repo_path


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m companion.tracking", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequence", default="all", help="a generated sequence name, 'all', or an OTB sequence with --otb-root")
    p.add_argument("--frames", type=int, default=120, help="frames per generated sequence")
    p.add_argument("--otb-root", default=None, help="folder of OTB sequences (local files only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opencv", default="MIL,KCF,CSRT", help="comma-separated OpenCV trackers ('' for none)")
    p.add_argument("--out", default=str(repo_path("book", "11_tracking", "results", "otb_table.json")))
    args = p.parse_args(argv)
    start = time.perf_counter()
    if args.otb_root:
        sequences = {args.sequence: data.load("otb", sequence=args.sequence, root=args.otb_root)}
    else:
        names = list(SEQUENCES) if args.sequence == "all" else args.sequence.split(",")
        sequences = data.load("tracking_sequences", names=names, n_frames=args.frames, seed=args.seed)
    opencv = [s for s in args.opencv.split(",") if s]
    per_seq = {}
    for name, seq in progress(sequences.items(), desc="sequences", total=len(sequences)):
        per_seq[name] = track_all(seq, opencv=opencv, seed=args.seed)
    rows = summarize(per_seq)
    curves = {t: {"success": np.mean([r[t]["success_curve"] for r in per_seq.values()], 0).tolist(),
                  "precision": np.mean([r[t]["precision_curve"] for r in per_seq.values()], 0).tolist()}
              for t in per_seq[next(iter(per_seq))]}
    print(f"{'tracker':34s} {'AUC':>6s} {'P@20':>6s} {'fps':>7s}")
    for r in rows:
        print(f"{r['tracker']:34s} {r['success_auc']:6.3f} {r['precision@20']:6.3f} {r['fps']:7.1f}")
    save_results(args.out, rows, seeds=[args.seed], wall_seconds=time.perf_counter() - start,
                 command="python -m companion.tracking " + " ".join(argv if argv is not None else []),
                 packages=("torch", "numpy", "opencv-contrib-python-headless", "scikit-learn"),
                 sequences=list(sequences), frames=args.frames, curves=curves)
    return rows


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
