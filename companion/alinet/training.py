"""Training an aligner on a KG pair and evaluating it on the test pairs; the ablation variants."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from companion.alinet.graph import check_pairs, gcn_adjacency, joint_edges, joint_triples, two_hop_edges
from companion.alinet.losses import alignment_loss, relation_loss, sample_negatives
from companion.alinet.metrics import evaluate_alignment
from companion.alinet.model import AliNet, GCNAlign
from companion.data.kg_pair import KGPair
from companion.utils import Timer, seed_everything, train

# The paper's ablation, with the choices we made where the paper's text was not available:
# GCN-Align = stacked ReLU GCN, last layer only, no relation loss, margin 3 (GCN-Align's gamma);
# "w/o distant" = one-hop layers only (AliNet's concatenation kept); "w/o gate" = tanh(h1 + h2).
VARIANTS: dict[str, dict] = {
    "GCN-Align": {"model": "gcn_align", "rel_param": 0.0, "neg_margin": 3.0},
    "AliNet w/o distant": {"use_distant": False},
    "AliNet w/o attention": {"use_attention": False},
    "AliNet w/o gate": {"use_gate": False},
    "AliNet w/o relation loss": {"rel_param": 0.0},
    "AliNet": {},
}


@dataclass
class AlignInputs:
    """Everything a model needs about a KG pair, in the joint id space (KG2 ids shifted by ``n1``)."""

    adj: torch.Tensor
    two_hop: torch.Tensor
    seeds: torch.Tensor
    test: torch.Tensor
    triples: torch.Tensor
    n1: int
    n2: int
    num_relations: int


def prepare(pair: KGPair, enhance: bool = True, max_two_hop: int | None = 16, seed: int = 0) -> AlignInputs:
    """Joint graph, normalised one-hop adjacency, two-hop edges and joint seed/test ids of ``pair``.

    ``max_two_hop`` caps the distant neighbours per entity (a seeded sample): view-only
    intermediate entities put most of a dense KG two hops away, and the cap keeps a CPU run short.
    """
    seeds = check_pairs(pair.seed_pairs, pair.num_entities1, pair.num_entities2, "seed_pairs")
    test = check_pairs(pair.test_pairs, pair.num_entities1, pair.num_entities2, "test_pairs")
    n1, n2 = pair.num_entities1, pair.num_entities2
    shift = torch.tensor([0, n1])
    edges = joint_edges(pair, enhance=enhance)
    return AlignInputs(adj=gcn_adjacency(edges, n1 + n2), two_hop=two_hop_edges(edges, n1 + n2, max_two_hop, seed),
                       seeds=seeds + shift, test=test + shift, triples=joint_triples(pair), n1=n1, n2=n2,
                       num_relations=pair.num_relations1 + pair.num_relations2)


@dataclass
class Config:
    """Hyperparameters (official defaults where they fit a small CPU run; see the chapter)."""

    dims: tuple[int, ...] = (64, 64, 32)
    lr: float = 0.01
    epochs: int = 150
    neg_multi: int = 10
    neg_margin: float = 1.5
    neg_param: float = 0.1
    rel_param: float = 0.01
    rel_batch: int = 1024
    epsilon: float = 0.9
    neg_every: int = 10
    dropout: float = 0.0
    csls_k: int = 0
    model: str = "alinet"
    use_attention: bool = True
    use_gate: bool = True
    use_distant: bool = True
    extra: dict = field(default_factory=dict)


def build_model(n: int, cfg: Config) -> torch.nn.Module:
    """The encoder named by ``cfg.model`` (``"alinet"`` or ``"gcn_align"``) for ``n`` joint entities."""
    if cfg.model == "gcn_align":
        return GCNAlign(n, cfg.dims, dropout=cfg.dropout)
    if cfg.model == "alinet":
        return AliNet(n, cfg.dims, use_attention=cfg.use_attention, use_gate=cfg.use_gate,
                      use_distant=cfg.use_distant, dropout=cfg.dropout)
    raise ValueError(f"model must be 'alinet' or 'gcn_align', got {cfg.model!r}")


def fit(inputs: AlignInputs, cfg: Config | None = None, seed: int = 0, desc: str = "align",
        **overrides) -> dict:
    """Train an aligner on the seed pairs (full batch, Adam) and evaluate Hits@1/10 and MRR on the test pairs.

    Negatives are uniform for the first ``neg_every`` epochs, then truncated (hard) and refreshed every
    ``neg_every`` epochs. Returns ``{"model", "history", "metrics", "seconds"}``.
    """
    cfg = cfg or Config()
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise ValueError(f"unknown setting {key!r}; Config has {sorted(cfg.__dataclass_fields__)}")
    cfg = Config(**{**cfg.__dict__, **overrides})
    gen = seed_everything(seed)
    model = build_model(inputs.n1 + inputs.n2, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = {"neg": sample_negatives(torch.zeros(inputs.n1 + inputs.n2, 1), inputs.seeds, inputs.n1,
                                     cfg.neg_multi, "uniform", generator=gen)}

    def batches(epoch: int):
        if epoch > 0 and epoch % cfg.neg_every == 0:
            model.eval()
            with torch.no_grad():
                emb = model(inputs.adj, inputs.two_hop)
            state["neg"] = sample_negatives(emb, inputs.seeds, inputs.n1, cfg.neg_multi, "truncated",
                                            cfg.epsilon, generator=gen)
            model.train()
        return [None]

    def step(model, _):
        emb = model(inputs.adj, inputs.two_hop)
        align = alignment_loss(emb, inputs.seeds, state["neg"], cfg.neg_margin, cfg.neg_param)
        if cfg.rel_param > 0:
            # a random batch of triples per step, as the official code samples per relation
            pick = torch.randint(0, len(inputs.triples), (min(cfg.rel_batch, len(inputs.triples)),), generator=gen)
            rel = relation_loss(emb, inputs.triples[pick], inputs.num_relations)
            return {"loss": align + cfg.rel_param * rel, "align": align, "rel": rel}
        return {"loss": align, "align": align}

    with Timer() as timer:
        history = train(model, step, batches, opt, cfg.epochs, desc=desc)
    return {"model": model, "history": history, "metrics": test_metrics(model, inputs, cfg.csls_k),
            "seconds": timer.seconds}


@torch.no_grad()
def test_metrics(model: torch.nn.Module, inputs: AlignInputs, csls_k: int = 0) -> dict[str, float]:
    """Hits@1, Hits@10 and MRR of ``model`` on the test pairs (candidates: all test counterparts)."""
    model.eval()
    emb = model(inputs.adj, inputs.two_hop)
    return evaluate_alignment(emb[inputs.test[:, 0]], emb[inputs.test[:, 1]], csls_k=csls_k)


def run_variant(inputs: AlignInputs, variant: str, cfg: Config | None = None, seed: int = 0) -> dict:
    """Train the ablation variant ``variant`` (a key of :data:`VARIANTS`) and return its result."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {list(VARIANTS)}")
    return fit(inputs, cfg, seed=seed, desc=variant, **VARIANTS[variant])
