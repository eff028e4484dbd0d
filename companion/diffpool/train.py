"""Training, evaluation and k-fold cross-validation of the DiffPool and flat classifiers."""

from __future__ import annotations

import time
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from companion.diffpool.dense import DenseGraphs, to_dense
from companion.diffpool.model import DiffPoolNet, FlatGNN, cluster_sizes
from companion.utils import History, progress, seed_everything, train

DEFAULT_MODELS = ("flat-mean", "flat-sum", "diffpool", "diffpool-pyg")  # what the CLI runs by default
ORACLE = "diffpool-oracle"  # DiffPool whose level-0 assignment is the planted communities (hier_graphs)
DET = "diffpool-det"  # the paper's DiffPool-DET: every assignment from a deterministic clustering (METIS)
NO_LINK_PRED = "diffpool-nolp"  # the paper's DiffPool-NoLP: no link-prediction loss (weight 0)
MODELS = DEFAULT_MODELS + (ORACLE, DET, NO_LINK_PRED)
DIFFPOOL_MODELS = ("diffpool", "diffpool-pyg", ORACLE, DET, NO_LINK_PRED)
READOUT_OPTIONS = ("mean", "max-concat")  # DiffPool readouts the CLI offers (--readout)


def make_model(kind: str, in_dim: int, num_classes: int, max_nodes: int, hidden: int = 32,
               levels: int = 1, cluster_ratio: float = 0.25, num_layers: int = 3, aggr: str = "sum",
               flat_layers: int | None = None, coarse_adj: str = "raw", readout: str = "mean",
               oracle_clusters: int | None = None, first_layers: int | None = None,
               normalize: bool = False) -> nn.Module:
    """One of :data:`MODELS`: the flat GNN with mean or sum readout, DiffPool with our
    :func:`diff_pool` or PyG's ``dense_diff_pool``, ``"diffpool-oracle"``: DiffPool whose
    first assignment is the planted communities (``oracle_clusters`` clusters, required),
    ``"diffpool-det"``: every assignment fixed by METIS (:mod:`companion.diffpool.det`), or
    ``"diffpool-nolp"``: the same network as ``"diffpool"`` (its training drops the
    link-prediction loss: :data:`FIT_OVERRIDES`).

    ``flat_layers`` (default: as many GNN layers as DiffPool has in total,
    ``first_layers + num_layers * levels``) gives the flat baseline the same depth, so DiffPool's
    gain is not a matter of more layers. ``aggr``, ``normalize`` and ``first_layers`` (see
    :class:`DiffPoolNet`) shape every kind's GNNs; ``coarse_adj`` and ``readout`` apply to the
    DiffPool kinds only; a flat kind's readout is in its name.
    """
    if kind not in MODELS:
        raise ValueError(f"kind must be one of {MODELS}, got {kind!r}")
    if kind.startswith("flat"):
        if coarse_adj != "raw" or readout != "mean" or oracle_clusters is not None:
            raise ValueError(f"coarse_adj, readout and oracle_clusters apply to the DiffPool kinds "
                             f"{DIFFPOOL_MODELS}, not to {kind!r}")
        depth = flat_layers if flat_layers is not None else (first_layers or num_layers) + num_layers * levels
        return FlatGNN(in_dim, num_classes, hidden, depth, readout=kind.split("-")[1], aggr=aggr,
                       normalize=normalize)
    if (kind == ORACLE) != (oracle_clusters is not None):
        raise ValueError(f"oracle_clusters is required for {ORACLE!r} and only for it, got {oracle_clusters} "
                         f"for {kind!r}")
    return DiffPoolNet(in_dim, num_classes, max_nodes, hidden, levels, cluster_ratio, num_layers,
                       readout=readout, aggr=aggr, pool="pyg" if kind == "diffpool-pyg" else "ours",
                       coarse_adj=coarse_adj, oracle_clusters=oracle_clusters, det=kind == DET,
                       first_layers=first_layers, normalize=normalize)


# training settings a kind fixes whatever the caller asks: DiffPool-NoLP is DiffPool without the
# link-prediction loss (the paper's ablation turns only that one off; the entropy loss stays)
FIT_OVERRIDES = {NO_LINK_PRED: {"link_weight": 0.0}}


def _forward(model: nn.Module, b: DenseGraphs):
    """``model(x, adj, mask)``, with the planted communities or the fixed clusters for a model
    that uses them."""
    if getattr(model, "uses_community", False):
        if b.community is None:
            raise ValueError("this model uses the planted communities, but the graphs carry no `community`")
        return model(b.x, b.adj, b.mask, community=b.community)
    if getattr(model, "uses_clusters", False):
        if b.clusters is None:
            raise ValueError("DiffPool-DET needs the graphs' fixed `clusters` (companion.diffpool.det.det_clusters)")
        return model(b.x, b.adj, b.mask, clusters=b.clusters)
    return model(b.x, b.adj, b.mask)


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, graphs: DenseGraphs, batch_size: int = 256) -> float:
    """Share of graphs whose predicted class is the label (model in eval mode)."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(graphs), batch_size):
        b = graphs[i:i + batch_size]
        correct += int((_forward(model, b)[0].argmax(1) == b.y).sum())
    model.train(was_training)
    return correct / len(graphs)


def fit(model: nn.Module, train_set: DenseGraphs, epochs: int = 100, lr: float = 1e-3, batch_size: int = 20,
        link_weight: float = 1.0, entropy_weight: float = 1.0, seed: int = 0, clip_grad: float | None = 2.0,
        eval_sets: dict[str, DenseGraphs] | None = None, desc: str = "train") -> History:
    """Train with Adam on ``CE + link_weight * L_LP + entropy_weight * L_E`` (PyG example: weights 1;
    the official code uses 1 and 0); ``clip_grad`` 2.0 and lr 1e-3 are the official defaults.

    ``eval_sets`` (name -> graphs) are scored after each epoch as ``{name}_acc``. The history logs
    ``loss``, ``ce``, ``link_loss`` and ``entropy_loss`` (epoch means) and ``cpu_seconds``: the
    process CPU time of each epoch's training (not evaluation), which unlike wall time does not
    depend on what else runs on the machine.
    """
    if len(train_set) == 0:
        raise ValueError("train_set is empty")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0, got {epochs}, {batch_size}, {lr}")
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    last = [time.process_time()]

    def batches(_epoch: int):
        order = torch.randperm(len(train_set), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            if len(idx) > 1:  # batch norm needs more than one graph
                yield train_set[idx]

    def step(model, b):
        logits, aux = _forward(model, b)
        ce = F.cross_entropy(logits, b.y)
        if not aux:
            return {"loss": ce, "ce": ce}
        loss = ce + link_weight * aux["link_loss"] + entropy_weight * aux["entropy_loss"]
        return {"loss": loss, "ce": ce, "link_loss": aux["link_loss"], "entropy_loss": aux["entropy_loss"]}

    def evaluate(model):
        out = {"cpu_seconds": time.process_time() - last[0]}
        out.update({f"{name}_acc": evaluate_accuracy(model, g) for name, g in (eval_sets or {}).items()})
        last[0] = time.process_time()
        return out

    return train(model, step, batches, optimizer, epochs, evaluate=evaluate, desc=desc, clip_grad=clip_grad)


def stratified_folds(labels: Sequence[int], folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test indices of each of ``folds`` stratified folds (scikit-learn ``StratifiedKFold``, shuffled)."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if np.bincount(labels).min() < folds:
        raise ValueError(f"every class needs at least folds={folds} graphs, got counts {np.bincount(labels).tolist()}")
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [test for _, test in skf.split(np.zeros(len(labels)), labels)]


def cross_validate(graphs: Sequence, kind: str, folds: int = 10, epochs: int = 100, seed: int = 0,
                   val_share: float = 0.1, max_folds: int | None = None, device: torch.device | str = "cpu",
                   **model_kw) -> dict:
    """k-fold CV of one model kind: on each fold, train on the other folds minus a stratified
    ``val_share`` validation split, pick the epoch with the best validation accuracy (the paper's
    early stopping, on accuracy), and report that epoch's accuracy on the held-out fold.

    Returns ``{"model", "fold_acc" (list), "fold_val_acc" (list: the validation accuracy of the
    chosen epoch, for choices among models: :func:`choose_on_validation`), "mean", "std",
    "cpu_seconds_per_epoch"}``. The validation split of a fold depends on ``seed``, the fold and
    the labels only, so every kind run with the same seed sees the same splits. ``max_folds`` runs
    only the first folds (for quick checks). Keyword arguments go to :func:`make_model`
    and the training hyper-parameters of :func:`fit` (``lr``, ``batch_size``, ``link_weight``,
    ``entropy_weight``; :data:`FIT_OVERRIDES` wins). For ``"diffpool-oracle"`` the graphs must carry
    ``community``; the oracle has as many clusters as the most communities in any graph (graphs
    with fewer have empty clusters, as a learned assignment may). For ``"diffpool-det"`` the
    clusters of every level come from :func:`~companion.diffpool.det.det_clusters`, once for all folds
    (they depend on each graph alone). The models train on ``device``; folds, splits and batch
    order are drawn on the CPU.
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < val_share < 0.5:
        raise ValueError(f"val_share must be in (0, 0.5), got {val_share}")
    if max_folds is not None and not 1 <= max_folds <= folds:
        raise ValueError(f"max_folds must be in [1, folds={folds}] or None, got {max_folds}")
    fit_kw = {k: model_kw.pop(k) for k in ("lr", "batch_size", "link_weight", "entropy_weight") if k in model_kw}
    fit_kw.update(FIT_OVERRIDES.get(kind, {}))
    dense = to_dense(graphs)
    if kind == ORACLE:
        if dense.community is None:
            raise ValueError(f"{ORACLE!r} needs graphs with a planted `community` per node (hier_graphs)")
        model_kw["oracle_clusters"] = int(dense.community.max()) + 1
    if kind == DET:
        from companion.diffpool.det import det_clusters

        sizes = cluster_sizes(dense.max_nodes, model_kw.get("cluster_ratio", 0.25), model_kw.get("levels", 1))
        dense.clusters = det_clusters(dense, sizes)
    labels = dense.y.numpy()
    dense = dense.to(device)
    num_classes = int(labels.max()) + 1
    accs, val_accs, secs = [], [], []
    for f, test_idx in enumerate(progress(stratified_folds(labels, folds, seed), desc=f"{kind} folds")):
        if max_folds is not None and f >= max_folds:
            break
        rest = np.setdiff1d(np.arange(len(labels)), test_idx)
        n_val = max(num_classes, int(round(val_share * len(rest))))  # stratifying needs one graph per class
        tr, va = train_test_split(rest, test_size=n_val, stratify=labels[rest], random_state=seed + f)
        seed_everything(seed + f)
        model = make_model(kind, dense.x.shape[-1], num_classes, dense.max_nodes, **model_kw).to(device)
        hist = fit(model, dense[torch.from_numpy(tr)], epochs=epochs, seed=seed + f,
                   eval_sets={"val": dense[torch.from_numpy(va)], "test": dense[torch.from_numpy(test_idx)]},
                   desc=f"{kind} fold {f + 1}", **fit_kw)
        best = int(np.argmax(hist["val_acc"]))
        accs.append(hist["test_acc"][best])
        val_accs.append(hist["val_acc"][best])
        secs.append(float(np.mean(hist["cpu_seconds"])))
    return {"model": kind, "fold_acc": accs, "fold_val_acc": val_accs, "mean": float(np.mean(accs)),
            "std": float(np.std(accs)), "cpu_seconds_per_epoch": float(np.mean(secs))}


def choose_on_validation(results: Mapping[str, Mapping]) -> dict:
    """Nested model choice: on each outer fold, the candidate with the best validation accuracy.

    ``results`` maps a candidate's name to its :func:`cross_validate` result, all with the same
    seed (so the same folds and validation splits). Per fold, only ``fold_val_acc`` decides; the
    chosen candidate's ``fold_acc`` (test) is reported. A tie goes to the first candidate in
    ``results``' order. Test accuracies are never compared, so the choice cannot overfit the test
    folds. Returns ``{"chosen" (name per fold), "fold_acc", "fold_val_acc", "mean", "std",
    "cpu_seconds_per_epoch"}`` (the last: all candidates' summed, the cost of the choice).
    """
    if not results:
        raise ValueError("choose_on_validation needs at least one candidate")
    names = list(results)
    folds = {len(r["fold_val_acc"]) for r in results.values()} | {len(r["fold_acc"]) for r in results.values()}
    if len(folds) != 1:
        raise ValueError(f"every candidate needs the same number of folds, got {sorted(folds)}")
    chosen, accs, val_accs = [], [], []
    for f in range(folds.pop()):
        name = max(names, key=lambda n: (results[n]["fold_val_acc"][f], -names.index(n)))
        chosen.append(name)
        accs.append(results[name]["fold_acc"][f])
        val_accs.append(results[name]["fold_val_acc"][f])
    return {"chosen": chosen, "fold_acc": accs, "fold_val_acc": val_accs, "mean": float(np.mean(accs)),
            "std": float(np.std(accs)),
            "cpu_seconds_per_epoch": float(sum(r["cpu_seconds_per_epoch"] for r in results.values()))}
