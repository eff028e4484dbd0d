"""Benchmark: seconds per outer step of LDS at a given graph size (``python -m companion.lds.benchmark``).

One *outer step* is one hypergradient (``tau`` unrolled inner Adam steps on sampled graphs, one
validation sample, reverse mode through all of it) plus the projected update of :math:`\\theta`.
Each outer iteration of :func:`companion.lds.train_lds` takes ``max_inner_steps / tau`` of them
and one expected prediction (``n_samples`` graphs), so the two timings give the cost of a run.
The graph is ``sbm_features`` with half its edges deleted, as in the incomplete-graph experiment.
Timings are wall-clock (reported, never compared on rerun); ``hypergradient_abs_sum`` is not a
timing: it pins down that the benchmarked code computes the same thing across versions.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from companion.cli import cli_entry, add_list_argument, chapter_parser, int_list, int_at_least, start_run
from companion.lds.bilevel import AdamState, expected_prediction, hypergradient
from companion.lds.experiments import load_graph_dataset
from companion.lds.gcn import init_gcn_weights
from companion.lds.graph import drop_edges, init_edge_probabilities, project_probabilities
from companion.results import save_results, summarize
from companion.utils import progress, seed_everything

METRICS = {"seconds_per_outer_step": False, "seconds_per_expected_prediction": False,
           "seconds_per_outer_iteration": False, "hypergradient_abs_sum": None}
TIMING = ["seconds_per_outer_step", "seconds_per_expected_prediction", "seconds_per_outer_iteration"]


def time_outer_steps(nodes: int, steps: int, seed: int = 0, tau: int = 5, n_samples: int = 16,
                     inner_steps: int = 100, device: torch.device | str = "cpu") -> dict:
    """Time ``steps`` outer steps (after one warm-up) and one expected prediction at ``nodes`` nodes,
    on ``device`` (a GPU is synchronised before each clock reading)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    seed_everything(seed)
    d = load_graph_dataset("sbm_features", seed, nodes)
    x, y, split = d["x"].to(device), d["y"].to(device), {k: v.to(device) for k, v in d["split"].items()}
    theta = init_edge_probabilities(nodes, drop_edges(d["adjacency"], 0.5, seed=seed)).to(device)
    g = torch.Generator().manual_seed(seed)
    w = init_gcn_weights(x.shape[1], int(y.max()) + 1, 16, g, device=device)
    state = AdamState.zeros_like(w)
    times, first = [], None
    for i in progress(range(steps + 1), desc=f"outer steps, {nodes} nodes"):
        sync()
        t = time.perf_counter()
        hg, w, state, _ = hypergradient(theta, w, state, x, y, split["train"], split["val"], tau, 0.02,
                                        generator=g)
        theta = project_probabilities(theta - hg)
        sync()
        if i > 0:  # the first step pays for allocations
            times.append(time.perf_counter() - t)
        first = float(hg.abs().sum()) if first is None else first
    sync()
    t = time.perf_counter()
    expected_prediction(w, x, theta, n_samples, g)
    sync()
    pred = time.perf_counter() - t
    step = sum(times) / len(times)
    return {"setting": {"nodes": nodes}, "method": "LDS", "seed": seed, "seconds_per_outer_step": step,
            "seconds_per_expected_prediction": pred,
            "seconds_per_outer_iteration": step * inner_steps / tau + pred, "hypergradient_abs_sum": first}


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m companion.lds.benchmark`` (every flag with its help)."""
    p = chapter_parser("python -m companion.lds.benchmark", __doc__.split("\n\n")[0], seeds=(0,),
                       examples=["python -m companion.lds.benchmark --nodes 600 2708 --steps 5",
                                 "python -m companion.lds.benchmark --nodes 300 --steps 2 --seeds 0 1"])
    g = p.add_argument_group("benchmark")
    add_list_argument(g, "--nodes", int_list(300), default=[600, 2708],
                      help="graph sizes: nodes of sbm_features (half its edges deleted), space-separated "
                           "(its split needs 300 or more)")
    g.add_argument("--steps", type=int_at_least(1), default=5,
                   help="timed outer steps per size, after one untimed warm-up step")
    return p


def main(argv: list[str] | None = None) -> dict:
    p = build_parser()
    args = p.parse_args(argv)
    run = start_run(p, args, module="companion.lds.benchmark", chapter="07_lds", argv=argv, one_file=True)
    rows = [time_outer_steps(n, args.steps, seed, device=run.device) for seed in run.seeds for n in args.nodes]
    path = save_results(run.path("benchmark_outer_step.json"), rows, seeds=run.seeds, command=run.command,
                        metrics=METRICS, timing=TIMING, wall_seconds=run.wall_seconds,
                        threads=args.threads,
                        note="outer step = one hypergradient (tau=5 inner steps) + projection; outer "
                             "iteration = 100/5 outer steps + one 16-sample expected prediction")
    for r in summarize(rows, METRICS, TIMING):
        print(f"{r['setting']['nodes']:6d} nodes  {r['metric']:32s} {r['mean']:.4g}")
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
