"""Write a TU-format stand-in of a benchmark's size, for timing ``make paper`` commands offline.

The graphs are random (no class signal): only their number, node counts, edge density and node
label count follow the benchmark, so that a timed fraction of the paper-setting command (a few
epochs of one fold) costs about what it would on the real files. The sizes are the TU datasets'
published statistics (https://chrsmrrs.github.io/datasets/docs/datasets/): graphs, classes, mean
nodes, mean edges, largest graph, node labels. Node counts are log-normal with the mean matched,
clipped to [4, largest].

    python tools/tu_standin.py ENZYMES --root /tmp/tu_standin   # -> /tmp/tu_standin/ENZYMES/raw/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# name: (graphs, classes, mean nodes, mean undirected edges, largest graph, node labels)
SIZES = {"ENZYMES": (600, 6, 32.63, 62.14, 126, 3),
         "PROTEINS": (1113, 2, 39.06, 72.82, 620, 3),
         "DD": (1178, 2, 284.32, 715.66, 5748, 89)}


def write_standin(name: str, root: Path, seed: int = 0) -> Path:
    """Write ``root/name/raw/`` with random graphs of the benchmark's size; returns the raw folder."""
    graphs, classes, mean_nodes, mean_edges, largest, labels = SIZES[name]
    rng = np.random.default_rng(seed)
    sigma = 0.6
    nodes = rng.lognormal(np.log(mean_nodes) - sigma ** 2 / 2, sigma, graphs).round().astype(int)
    nodes = np.clip(nodes, 4, largest)
    nodes[0] = largest  # the largest graph sets the padding and the first level's cluster count
    raw = root / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    edges, indicator, offset = [], [], 0
    for g, n in enumerate(nodes, 1):
        m = max(n - 1, int(round(n * mean_edges / mean_nodes)))
        chain = [(i, i + 1) for i in range(n - 1)]  # connected
        extra = rng.integers(0, n, size=(m - len(chain), 2))
        for i, j in chain + [tuple(e) for e in extra if e[0] != e[1]]:
            edges += [(offset + i + 1, offset + j + 1), (offset + j + 1, offset + i + 1)]
        indicator += [g] * n
        offset += n
    (raw / f"{name}_A.txt").write_text("".join(f"{i}, {j}\n" for i, j in edges))
    (raw / f"{name}_graph_indicator.txt").write_text("".join(f"{g}\n" for g in indicator))
    (raw / f"{name}_graph_labels.txt").write_text("".join(f"{c}\n" for c in rng.integers(1, classes + 1, graphs)))
    (raw / f"{name}_node_labels.txt").write_text("".join(f"{c}\n" for c in rng.integers(0, labels, offset)))
    return raw


def main(argv: list[str] | None = None) -> int:
    """Command line: one or more benchmark names and the root folder."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="+", choices=sorted(SIZES))
    p.add_argument("--root", type=Path, required=True)
    args = p.parse_args(argv)
    for name in args.names:
        print(write_standin(name, args.root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
