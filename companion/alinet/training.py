"""Training an aligner on a KG pair, model selection on a validation slice of the seeds, and the ablation variants.

The schedule follows the official ``AliNet.train`` (``alinet.py``): full-batch Adam steps; every
``eval_freq`` epochs from ``start_valid`` on, Hits@1 is measured, training stops once it has fallen
twice in a row, the truncated negatives are refreshed from the last layer's output, and from epoch
``start_augment * eval_freq`` on, *iterative neighbourhood augmentation* adds the confidently aligned
pairs as links that copy edges between the KGs. Unlike the official code, which validates on the test
pairs, Hits@1 is measured on a *validation slice of the seed pairs* (:func:`split_seed_pairs`) that
is never trained on, and the model of the best validation round is the one tested.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import torch
from torch.nn import functional as F

from companion.alinet.graph import check_pairs, distant_neighbours, gcn_adjacency, gcn_align_adjacency, joint_edges, \
    joint_triples, two_hop_edges
from companion.alinet.losses import alignment_loss, gcn_align_loss, relation_loss, sample_negatives, \
    sample_uniform_corruptions
from companion.alinet.metrics import csls, evaluate_alignment
from companion.alinet.model import AliNet, GCNAlign
from companion.data.kg_pair import KGPair
from companion.utils import Timer, progress, seed_everything

# GCN-Align follows its own code (include/Config.py, Model.py): diagonal 2-layer GCN over the
# functionality-weighted adjacency, no seed-edge enhancement, L1 margin-ranking loss with margin 3 and
# 25 uniform negatives per side, plain SGD at learning rate 25, no relation loss, no augmentation.
# "w/o distant" = one-hop layers only (AliNet's concatenation kept); "w/o gate" = tanh(BN(h1) + BN(h2)).
VARIANTS: dict[str, dict] = {
    "GCN-Align": {"model": "gcn_align", "optimizer": "sgd", "lr": 25.0, "neg_margin": 3.0, "neg_multi": 25,
                  "rel_param": 0.0, "sim_th": 0.0},
    "AliNet w/o distant": {"use_distant": False},
    "AliNet w/o attention": {"use_attention": False},
    "AliNet w/o gate": {"use_gate": False},
    "AliNet w/o relation loss": {"rel_param": 0.0},
    "AliNet w/o augmentation": {"sim_th": 0.0},
    "AliNet": {},
}


def split_seed_pairs(seed_pairs: torch.Tensor, valid_ratio: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the seed alignment (K, 2) into a training part and a validation slice of ``round(valid_ratio * K)`` pairs.

    A seeded permutation of the seed pairs only: the test pairs never enter. ``valid_ratio = 0`` gives an
    empty (0, 2) validation slice. Returns ``(train, valid)``.
    """
    if not 0.0 <= valid_ratio < 1.0:
        raise ValueError(f"valid_ratio must be in [0, 1), got {valid_ratio}")
    seed_pairs = torch.as_tensor(seed_pairs, dtype=torch.long)
    k = int(round(valid_ratio * len(seed_pairs)))
    if k >= len(seed_pairs):
        raise ValueError(f"valid_ratio={valid_ratio} leaves no training pair out of {len(seed_pairs)}")
    perm = torch.randperm(len(seed_pairs), generator=torch.Generator().manual_seed(seed))
    return seed_pairs[perm[k:]], seed_pairs[perm[:k]]


@dataclass
class AlignInputs:
    """Everything a model needs about a KG pair, in the joint id space (KG2 ids shifted by ``n1``).

    ``seeds`` are the training pairs, ``valid`` the validation slice of the seed alignment (maybe empty),
    ``test`` the test pairs. ``adj`` is AliNet's enhanced one-hop adjacency, ``gcn_align_adj`` GCN-Align's;
    ``two_hop`` (2, E2) the distant-neighbour edges and ``two_hop_weight`` (E2,) their weights (or None).
    """

    adj: torch.Tensor
    two_hop: torch.Tensor
    two_hop_weight: torch.Tensor | None
    seeds: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    triples: torch.Tensor
    n1: int
    n2: int
    num_relations: int
    gcn_align_adj: torch.Tensor
    pair: KGPair = field(repr=False)
    enhance: bool = True

    def to(self, device: torch.device | str) -> "AlignInputs":
        """The same inputs with every tensor on ``device`` (``pair``, read on the CPU, stays)."""
        moved = {k: v.to(device) for k, v in self.__dict__.items() if isinstance(v, torch.Tensor)}
        return replace(self, **moved)


def prepare(pair: KGPair, enhance: bool = True, two_hop: str = "paths", max_two_hop: int | None = 16, seed: int = 0,
            valid_ratio: float = 0.2) -> AlignInputs:
    """Joint graph, normalised adjacencies, distant neighbours and joint train/validation/test ids of ``pair``.

    ``valid_ratio`` of the seed pairs is held out for validation (:func:`split_seed_pairs`, seeded by
    ``seed``); only the training part enhances the graph. ``two_hop="paths"`` (default) builds the
    distant neighbours as the official code (:func:`~companion.alinet.graph.distant_neighbours`:
    directed two-step paths, the 5 most frequent relation patterns dropped, weighted); ``"all"`` takes
    every undirected two-hop pair of the enhanced graph (:func:`~companion.alinet.graph.two_hop_edges`),
    with at most ``max_two_hop`` sampled per entity and no weights.
    """
    if two_hop not in ("paths", "all"):
        raise ValueError(f"two_hop must be 'paths' or 'all', got {two_hop!r}")
    seeds = check_pairs(pair.seed_pairs, pair.num_entities1, pair.num_entities2, "seed_pairs")
    test = check_pairs(pair.test_pairs, pair.num_entities1, pair.num_entities2, "test_pairs")
    train, valid = split_seed_pairs(seeds, valid_ratio, seed)
    n1, n2 = pair.num_entities1, pair.num_entities2
    shift = torch.tensor([0, n1])
    edges = joint_edges(pair, enhance=enhance, seeds=train)
    triples = joint_triples(pair)
    if two_hop == "paths":
        e2, w2 = distant_neighbours(pair)
    else:
        e2, w2 = two_hop_edges(edges, n1 + n2, max_two_hop, seed), None
    return AlignInputs(adj=gcn_adjacency(edges, n1 + n2), two_hop=e2, two_hop_weight=w2,
                       seeds=train + shift, valid=valid + shift, test=test + shift, triples=triples, n1=n1, n2=n2,
                       num_relations=pair.num_relations1 + pair.num_relations2,
                       gcn_align_adj=gcn_align_adjacency(triples, n1 + n2), pair=pair, enhance=enhance)


@dataclass
class Config:
    """Hyperparameters: the official defaults (``main.py``, ``run_dbp15k.sh``) except where the chapter says.

    ``dims`` is smaller than the official (500, 400, 300) for CPU runs; ``epochs`` is the maximum
    (training stops early on validation Hits@1, see the module doc).
    """

    dims: tuple[int, ...] = (64, 64, 32)
    lr: float = 0.001
    epochs: int = 1000
    optimizer: str = "adam"
    neg_multi: int = 10
    neg_margin: float = 1.5
    neg_param: float = 0.1
    rel_param: float = 0.01
    rel_batch: int = 1024
    epsilon: float = 0.98
    dropout: float = 0.5
    batch_norm: str = "train"
    eval_freq: int = 5
    start_valid: int = 10
    start_augment: int = 4
    sim_th: float = 0.5
    augment_csls_k: int = 2
    early_stop: bool = True
    gcn_align_neg_every: int = 10
    csls_k: int = 0
    model: str = "alinet"
    use_attention: bool = True
    use_gate: bool = True
    use_distant: bool = True
    extra: dict = field(default_factory=dict)


def build_model(n: int, cfg: Config) -> torch.nn.Module:
    """The encoder named by ``cfg.model`` (``"alinet"`` or ``"gcn_align"``) for ``n`` joint entities."""
    if cfg.model == "gcn_align":
        return GCNAlign(n, cfg.dims[0], len(cfg.dims) - 1)
    if cfg.model == "alinet":
        return AliNet(n, cfg.dims, use_attention=cfg.use_attention, use_gate=cfg.use_gate,
                      use_distant=cfg.use_distant, dropout=cfg.dropout, batch_norm=cfg.batch_norm)
    raise ValueError(f"model must be 'alinet' or 'gcn_align', got {cfg.model!r}")


def _config(cfg: Config | None, overrides: dict) -> Config:
    cfg = cfg or Config()
    for key in overrides:
        if not hasattr(cfg, key):
            raise ValueError(f"unknown setting {key!r}; Config has {sorted(cfg.__dataclass_fields__)}")
    cfg = Config(**{**cfg.__dict__, **overrides})
    if cfg.optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {cfg.optimizer!r}")
    if cfg.epochs < 1 or cfg.eval_freq < 1:
        raise ValueError(f"epochs and eval_freq must be >= 1, got {cfg.epochs} and {cfg.eval_freq}")
    return cfg


@torch.no_grad()
def augment_links(last: torch.Tensor, cand1: torch.Tensor, cand2: torch.Tensor, links: torch.Tensor,
                  sim_th: float = 0.5, csls_k: int = 2) -> torch.Tensor:
    r"""One round of iterative neighbourhood augmentation (``augment`` + ``update_labeled_alignment_x/y``).

    ``last``: (N, d) last-layer outputs; ``cand1`` (n,) / ``cand2`` (m,): the unlabelled KG1 / KG2
    candidates (joint ids); ``links`` (n,): the current partner position in ``cand2`` of each ``cand1``
    entity, -1 for none. A candidate whose nearest partner by :math:`\sigma(\mathrm{CSLS}_k(\cos))` scores
    above ``sim_th`` takes that partner; then each partner keeps only its best-scoring entity.
    Returns the new (n,) ``links``.
    """
    e1, e2 = F.normalize(last[cand1], dim=1), F.normalize(last[cand2], dim=1)
    sim = e1 @ e2.T
    if csls_k > 0:
        sim = csls(sim, csls_k)
    sim = torch.sigmoid(sim)
    best_sim, best = sim.max(1)
    links = links.clone()
    take = best_sim > sim_th
    links[take] = best[take]
    x = (links >= 0).nonzero().flatten()
    if len(x):
        score = sim[x, links[x]]
        order = score.argsort(descending=True)
        x_sorted, y_sorted = x[order], links[x][order]
        first = torch.ones(len(x_sorted), dtype=torch.bool)
        seen: set[int] = set()
        for i, y in enumerate(y_sorted.tolist()):
            first[i] = y not in seen
            seen.add(y)
        links[x_sorted[~first.to(links.device)]] = -1
    return links


def fit(inputs: AlignInputs, cfg: Config | None = None, seed: int = 0, desc: str = "align",
        progress_bar: bool = True, **overrides) -> dict:
    """Train an aligner on the training seeds and evaluate Hits@1/10 and MRR on the test pairs.

    With a validation slice (``inputs.valid`` not empty) the validation Hits@1 is measured every
    ``eval_freq`` epochs from ``start_valid``, training stops when it has fallen twice in a row
    (``early_stop``), and the best round's model is tested. Returns ``{"model", "history", "metrics",
    "valid_hits@1", "best_epoch", "epochs_run", "links", "seconds"}``; ``history`` holds the per-epoch
    losses and the validation curve. The model trains on the device of ``inputs`` (:meth:`AlignInputs.to`);
    negatives are drawn on the CPU, and the augmented graph is rebuilt there.
    """
    cfg = _config(cfg, overrides)
    gen = seed_everything(seed)
    n = inputs.n1 + inputs.n2
    gcn = cfg.model == "gcn_align"
    device = inputs.adj.device
    model = build_model(n, cfg).to(device)
    opt = (torch.optim.SGD if cfg.optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=cfg.lr)
    adj = inputs.gcn_align_adj if gcn else inputs.adj
    metric = "l1" if gcn else "cosine"
    has_valid = len(inputs.valid) > 0
    train_seeds = inputs.seeds.cpu() - torch.tensor([0, inputs.n1])
    pool = torch.cat([inputs.valid, inputs.test])  # unlabelled candidates of augmentation: the pairing is unused
    cand1, cand2 = pool[:, 0].sort().values, pool[:, 1].sort().values
    links = torch.full((len(cand1),), -1, dtype=torch.long, device=device)
    near = None  # truncated-negative candidates (nearest entities of the other KG), refreshed at validation
    history: dict[str, list] = {"loss": [], "align": [], "rel": [], "valid_epoch": [], "valid_hits@1": [],
                                "links": []}
    best = {"hits": -1.0, "epoch": 0, "state": None, "adj": adj, "links": 0}
    flags = [0.0, 0.0]

    def embed() -> torch.Tensor:
        return model(adj, inputs.two_hop, inputs.two_hop_weight)

    def negatives(epoch: int):
        if gcn:
            return None
        if near is None:
            return sample_negatives(torch.zeros(n, 1), inputs.seeds, inputs.n1, cfg.neg_multi, "uniform",
                                    generator=gen)
        out = []
        for side, (anchor, cand) in enumerate(near):
            pick = torch.randint(0, cand.shape[1], (len(anchor), cfg.neg_multi), generator=gen).to(device)
            c = cand.gather(1, pick)
            a = anchor[:, None].expand_as(c)
            true = inputs.seeds[:, 1 - side][:, None].expand_as(c)
            keep = c != true
            out.append(torch.stack([a[keep], c[keep]], 1) if side == 0 else torch.stack([c[keep], a[keep]], 1))
        return torch.cat(out)

    gcn_neg = None
    epochs_run = 0
    bar = progress(range(1, cfg.epochs + 1), desc=desc, **({} if progress_bar else {"disable": True}))
    with Timer() as timer:
        for epoch in bar:
            epochs_run = epoch
            model.train()
            if gcn:
                if (epoch - 1) % cfg.gcn_align_neg_every == 0:
                    gcn_neg = sample_uniform_corruptions(inputs.seeds, n, cfg.neg_multi, generator=gen)
                emb = embed()
                loss = align = gcn_align_loss(emb, inputs.seeds, gcn_neg[0], gcn_neg[1], cfg.neg_margin)
                rel = torch.zeros(())
            else:
                neg = negatives(epoch)
                emb = embed()
                align = alignment_loss(emb, inputs.seeds, neg, cfg.neg_margin, cfg.neg_param)
                rel = torch.zeros(())
                loss = align
                if cfg.rel_param > 0:
                    pick = torch.randint(0, len(inputs.triples), (min(cfg.rel_batch, len(inputs.triples)),),
                                         generator=gen)
                    rel = relation_loss(emb, inputs.triples[pick], inputs.num_relations)
                    loss = align + cfg.rel_param * rel
            opt.zero_grad()
            loss.backward()
            opt.step()
            history["loss"].append(loss.item()); history["align"].append(align.item()); history["rel"].append(rel.item())
            if epoch % cfg.eval_freq or epoch < cfg.start_valid:
                continue
            model.eval()
            with torch.no_grad():
                outs = model.layer_outputs(adj, inputs.two_hop, inputs.two_hop_weight)
                rep = model(adj, inputs.two_hop, inputs.two_hop_weight)
            if has_valid:
                hits = evaluate_alignment(rep[inputs.valid[:, 0]], rep[inputs.valid[:, 1]], ks=(1,),
                                          metric=metric)["hits@1"]
                history["valid_epoch"].append(epoch); history["valid_hits@1"].append(hits)
                history["links"].append(int((links >= 0).sum()))
                bar.set_postfix({"loss": f"{loss.item():.3g}", "valid hits@1": f"{hits:.3f}"})
                if hits > best["hits"]:
                    best.update(hits=hits, epoch=epoch, state=copy.deepcopy(model.state_dict()), adj=adj,
                                links=int((links >= 0).sum()))
                stop = cfg.early_stop and hits < flags[1] < flags[0]
                flags = [flags[1], hits]
                if stop:
                    break
            if gcn:
                continue
            last = F.normalize(outs[-1], dim=1)
            k = max(1, int((1.0 - cfg.epsilon) * min(inputs.n1, inputs.n2)))
            near = []
            for side, (lo, hi) in enumerate(((inputs.n1, n), (0, inputs.n1))):
                anchor = inputs.seeds[:, side]
                cand = torch.cat([(last[anchor[i:i + 2048]] @ last[lo:hi].T).topk(min(k, hi - lo), 1).indices
                                  for i in range(0, len(anchor), 2048)]) + lo
                near.append((anchor, cand))
            if cfg.sim_th > 0 and epoch >= cfg.start_augment * cfg.eval_freq:
                links = augment_links(outs[-1], cand1, cand2, links, cfg.sim_th, cfg.augment_csls_k)
                found = (links >= 0).nonzero().flatten()
                new = torch.stack([cand1[found], cand2[links[found]] - inputs.n1], 1).cpu()
                adj = gcn_adjacency(joint_edges(inputs.pair, inputs.enhance, torch.cat([train_seeds, new])), n).to(device)
    if has_valid and best["state"] is not None:
        model.load_state_dict(best["state"])
        adj = best["adj"]
    model.eval()
    with torch.no_grad():
        rep = model(adj, inputs.two_hop, inputs.two_hop_weight)
    metrics = evaluate_alignment(rep[inputs.test[:, 0]], rep[inputs.test[:, 1]], csls_k=0 if gcn else cfg.csls_k,
                                 metric=metric)
    return {"model": model, "adj": adj, "history": history, "metrics": metrics,
            "valid_hits@1": best["hits"] if has_valid else None, "best_epoch": best["epoch"] if has_valid else epochs_run,
            "epochs_run": epochs_run, "links": best["links"] if has_valid else int((links >= 0).sum()),
            "seconds": timer.seconds}


@torch.no_grad()
def test_metrics(model: torch.nn.Module, inputs: AlignInputs, csls_k: int = 0, adj: torch.Tensor | None = None) -> dict[str, float]:
    """Hits@1, Hits@10 and MRR of ``model`` on the test pairs (candidates: all test counterparts)."""
    model.eval()
    gcn = isinstance(model, GCNAlign)
    if adj is None:
        adj = inputs.gcn_align_adj if gcn else inputs.adj
    emb = model(adj, inputs.two_hop, inputs.two_hop_weight)
    return evaluate_alignment(emb[inputs.test[:, 0]], emb[inputs.test[:, 1]], csls_k=csls_k,
                              metric="l1" if gcn else "cosine")


def run_variant(inputs: AlignInputs, variant: str, cfg: Config | None = None, seed: int = 0, **overrides) -> dict:
    """Train the ablation variant ``variant`` (a key of :data:`VARIANTS`) and return its result."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {list(VARIANTS)}")
    return fit(inputs, cfg, seed=seed, desc=variant, **{**VARIANTS[variant], **overrides})
