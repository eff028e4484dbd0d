"""The gate a trained GNN passes before anything explains it: it must solve every explained class.

A two-class GNN on BA-2Motifs can reach full accuracy by looking for one motif only ("house or
not"). Then removing the other motif changes nothing, for any explainer and for the ground truth
itself, and Fidelity on that class is about 0 whatever the explanation: a class-balanced mean can
then only ask whether a set hit the one motif the model uses. So a model is accepted only if, on
*validation* items (never explained in the test), for every explained class

* its accuracy is at least :data:`MIN_CLASS_ACC`, and
* the oracle (the ground-truth motif, :func:`~companion.subgraphx.evaluate.motif_oracle`, of
  :data:`GATE_K` nodes) has a mean probability Fidelity of at least :data:`MIN_ORACLE_FIDELITY`:
  removing the true motif lowers the predicted class's probability by that much on average, so
  the model uses that class's motif as evidence.

A model that fails is retrained with a derived seed (:func:`train_seed`: same data, another
initialisation and batch order), up to a number of attempts; every attempt is recorded.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from companion.subgraphx.evaluate import motif_oracle, probability_fidelity

MIN_CLASS_ACC = 0.9  # per explained class, on validation items
MIN_ORACLE_FIDELITY = 0.25  # mean p(G) - p(G without the motif) per explained class, on validation items
GATE_K = 5  # the oracle's size: the motif's 5 nodes
MAX_ATTEMPTS = 25  # trainings per seed before the run stops with an error
SEED_STRIDE = 1000  # attempt a of seed s trains with seed s + 1000 a (attempt 0: the seed itself)


def train_seed(seed: int, attempt: int) -> int:
    """The training seed of ``attempt`` (0, 1, ...) for run seed ``seed``: ``seed + 1000 * attempt``."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    return seed + SEED_STRIDE * attempt


@torch.no_grad()
def class_report(model: torch.nn.Module, items: Sequence, *, node_data=None, classes: Sequence[int],
                 k: int = GATE_K, seed: int = 0) -> dict[int, dict[str, float]]:
    """Per class ``c`` of ``classes``: ``{"acc", "oracle_fid", "n"}`` on the validation ``items``.

    ``items`` are graphs (with ``y`` and ``node_mask``) or, with ``node_data``, node ids of that
    graph (the oracle then grows from the node within its computation graph, as in the test).
    """
    from torch_geometric.utils import k_hop_subgraph

    from companion.subgraphx.explainer import num_message_passing_layers

    model.eval()
    gen = torch.Generator().manual_seed(seed)
    per: dict[int, dict[str, list[float]]] = {int(c): {"acc": [], "fid": []} for c in classes}
    if node_data is not None:
        logits = model(node_data.x, node_data.edge_index)
        hops = num_message_passing_layers(model)
    for it in items:
        if node_data is None:
            x, ei, mask, v, cand = it.x, it.edge_index, it.node_mask, None, None
            y, pred = int(it.y), int(model(x, ei).argmax())
        else:
            v = int(it)
            x, ei, mask = node_data.x, node_data.edge_index, node_data.node_mask
            y, pred = int(node_data.y[v]), int(logits[v].argmax())
            cand = k_hop_subgraph(v, hops, ei, num_nodes=node_data.num_nodes)[0].tolist()
        if y not in per:
            continue
        size = min(k, x.shape[0] if cand is None else len(cand))
        nodes = motif_oracle(mask, ei, size, gen, start=v, candidates=cand)
        per[y]["acc"].append(float(pred == y))
        per[y]["fid"].append(probability_fidelity(model, x, ei, nodes, pred, v)[0])
    out = {}
    for c, vals in per.items():
        if not vals["acc"]:
            raise ValueError(f"the gate needs validation items of every explained class; class {c} has none")
        n = len(vals["acc"])
        out[c] = {"acc": sum(vals["acc"]) / n, "oracle_fid": sum(vals["fid"]) / n, "n": n}
    return out


def gate_failures(report: dict[int, dict[str, float]], min_acc: float = MIN_CLASS_ACC,
                  min_fid: float = MIN_ORACLE_FIDELITY) -> list[str]:
    """Why ``report`` fails the gate (one line per failed bound); empty when it passes."""
    out = []
    for c, r in sorted(report.items()):
        if r["acc"] < min_acc:
            out.append(f"class {c}: accuracy {r['acc']:.3f} < {min_acc}")
        if r["oracle_fid"] < min_fid:
            out.append(f"class {c}: oracle Fidelity {r['oracle_fid']:.3f} < {min_fid}")
    return out


def train_gated(train: Callable[[int], torch.nn.Module], report: Callable[[torch.nn.Module], dict],
                seed: int, *, min_acc: float = MIN_CLASS_ACC, min_fid: float = MIN_ORACLE_FIDELITY,
                max_attempts: int = MAX_ATTEMPTS) -> tuple[torch.nn.Module, list[dict]]:
    """Train with ``train(train_seed)`` until ``report(model)`` passes the gate.

    Returns the accepted model and one record per attempt (its training seed, per-class accuracy
    and oracle Fidelity, whether it passed). Raises ``RuntimeError`` when ``max_attempts``
    trainings all fail, naming the failed bounds of the last one.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    attempts: list[dict] = []
    for attempt in range(max_attempts):
        ts = train_seed(seed, attempt)
        model = train(ts)
        rep = report(model)
        fails = gate_failures(rep, min_acc, min_fid)
        attempts.append({"attempt": attempt, "train_seed": ts, "passed": not fails,
                         **{f"acc_y{c}": r["acc"] for c, r in rep.items()},
                         **{f"oracle_fid_y{c}": r["oracle_fid"] for c, r in rep.items()}})
        if not fails:
            return model, attempts
    raise RuntimeError(f"seed {seed}: no GNN passed the gate in {max_attempts} trainings (last: "
                       f"{'; '.join(fails)}); raise --max-retrains or lower --gate-acc/--gate-fid")
