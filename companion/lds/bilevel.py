r"""The bilevel trainer of LDS (paper Sec. 3, Algorithm 1).

Outer problem: :math:`\min_{\theta} F(w_\theta, \theta) = \mathbb E_{A\sim\mathrm{Ber}(\theta)}[L_{val}(w_\theta, A)]`;
inner problem: :math:`w_\theta = \arg\min_w \mathbb E_{A}[L(w, A)]`, approximated by Adam steps on
graphs sampled at every step (Eq. (2)-(4)). The hypergradient is computed in reverse mode through
the last τ unrolled inner steps (truncated back-propagation, Eq. (8)), with the straight-through
estimator for the discrete samples (Eq. (9)), and :math:`\theta` takes a projected gradient step.

What follows the official ``lds.py::lds`` loop: each *outer iteration* re-initialises the GCN,
trains it for at most ``max_inner_steps`` Adam steps (stopping early when the training loss no
longer decreases by a factor ``min_decrease`` for ``inner_patience`` steps), and every ``tau``
steps takes one hypergradient step on :math:`\theta`. After each outer iteration the expected
prediction over ``n_samples`` graphs is scored on the early-stopping set; the best iteration's
test accuracy is reported, and training stops after ``patience`` iterations without improvement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F

from companion.lds.gcn import gcn_forward, gcn_training_loss, init_gcn_weights
from companion.lds.graph import _check_square, expected_adjacency, project_probabilities, sample_graph, uniform_like
from companion.utils import progress


@dataclass
class LDSConfig:
    """Hyperparameters; defaults are the official ``LDSConfig`` values unless noted.

    ``max_inner_steps``, ``max_outer_iterations`` and ``patience`` are smaller than the
    official 400 / unbounded / 20 to fit a CPU budget: that is our choice.
    """

    tau: int = 5  # io_steps: inner steps per hypergradient (truncation length)
    inner_lr: float = 0.02  # io_lr (Adam)
    outer_lr: float = 1.0  # oo_lr (plain gradient descent)
    outer_lr_decay: float = 1e-3  # inverse time decay per hypergradient step: lr0 / (1 + decay * t)
    max_inner_steps: int = 400  # io_params[2]
    min_decrease: float = 1e-3  # io_params[0]
    inner_patience: int = 20  # io_params[1]
    max_outer_iterations: int = 50
    patience: int = 20  # pat: early stopping on the es-set accuracy
    n_samples: int = 16  # graphs averaged for the expected prediction
    dense: bool = False  # the paper's "(dense)" variant: use E[A] = theta instead of samples
    # frozen control only (outer_lr 0) on a 0/1 theta: every sample is theta itself, so multiply by it
    # as a sparse tensor (same draws from the generator, O(edges) products; last bits differ from dense)
    sparse: bool = False
    hidden: int = 16
    dropout: float = 0.5  # 1 - keep_prob (the grid uses keep_prob = 0.5)
    l2_reg: float = 5e-4

    def __post_init__(self) -> None:
        for name in ("tau", "max_inner_steps", "max_outer_iterations", "patience", "n_samples", "hidden"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.inner_lr <= 0 or self.outer_lr < 0:
            raise ValueError(f"inner_lr must be > 0 and outer_lr >= 0, got {self.inner_lr}, {self.outer_lr}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass
class AdamState:
    """Adam's moments and step count, kept as tensors so that an update can be differentiated."""

    m: list[torch.Tensor]
    v: list[torch.Tensor]
    t: int = 0

    @classmethod
    def zeros_like(cls, weights: list[torch.Tensor]) -> "AdamState":
        return cls([torch.zeros_like(w) for w in weights], [torch.zeros_like(w) for w in weights], 0)

    def detach(self) -> "AdamState":
        return AdamState([m.detach() for m in self.m], [v.detach() for v in self.v], self.t)


def adam_step(
    weights: list[torch.Tensor], grads: list[torch.Tensor], state: AdamState, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
) -> tuple[list[torch.Tensor], AdamState]:
    r"""One differentiable Adam step :math:`w_{t+1} = \Phi_t(w_t, A_t)` (paper Eq. (3) with Adam as :math:`\Phi`).

    ``eps`` sits inside the square root (:math:`\sqrt{\hat v + \epsilon^2}`) so that the update
    stays differentiable where :math:`v = 0`.
    """
    b1, b2 = betas
    t = state.t + 1
    new_w, new_m, new_v = [], [], []
    for w, g, m, v in zip(weights, grads, state.m, state.v):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        new_w.append(w - lr * m_hat / (v_hat + eps * eps).sqrt())
        new_m.append(m)
        new_v.append(v)
    return new_w, AdamState(new_m, new_v, t)


def validation_loss(
    weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, adjacency: torch.Tensor, val_idx: torch.Tensor
) -> torch.Tensor:
    """Outer objective on one sampled graph: cross-entropy on the validation nodes (no dropout)."""
    return F.cross_entropy(gcn_forward(weights, x, adjacency)[val_idx], y[val_idx])


def hypergradient(
    theta: torch.Tensor,
    weights: list[torch.Tensor],
    state: AdamState,
    x: torch.Tensor,
    y: torch.Tensor,
    train_idx: torch.Tensor,
    val_idx: torch.Tensor,
    tau: int,
    inner_lr: float,
    l2_reg: float = 5e-4,
    dropout: float = 0.5,
    generator: torch.Generator | None = None,
    dense: bool = False,
) -> tuple[torch.Tensor, list[torch.Tensor], AdamState, list[float]]:
    r"""Truncated reverse-mode hypergradient :math:`\nabla_\theta L_{val}(w_{t+\tau}, A)` (paper Eq. (8)-(9)).

    Unrolls ``tau`` Adam steps from ``(weights, state)`` (treated as constants: the truncation),
    sampling a fresh graph :math:`A_s \sim \mathrm{Ber}(\theta)` at every step with the
    straight-through gradient, then samples one more graph for the validation loss and
    back-propagates through the whole unrolled computation. With ``dense=True`` every step uses
    the mean graph :math:`\theta + \theta^\top` instead (the paper's "dense" variant); the
    hypergradient is then the exact gradient of a deterministic function of :math:`\theta`.

    Args:
        theta: (N, N) edge probabilities.
        weights, state: the GCN weights and Adam state where the unroll starts.
        x: (N, F) features; y: (N,) labels; train_idx, val_idx: node indices.
    Returns:
        ``(hypergrad (N, N), new weights (detached), new Adam state, training losses of the tau steps)``.
    """
    _check_square(theta)
    if theta.shape[0] != x.shape[0]:
        raise ValueError(f"theta is {tuple(theta.shape)} but x has {x.shape[0]} rows")
    if tau < 1:
        raise ValueError(f"tau must be >= 1, got {tau}")
    theta = theta.detach().requires_grad_()
    w = [wi.detach().requires_grad_() for wi in weights]
    st = state.detach()
    losses = []

    def graph() -> torch.Tensor:
        if dense:
            upper = theta.triu(1)
            return upper + upper.t()
        return sample_graph(theta, generator)

    for _ in range(tau):
        a = graph()
        loss = gcn_training_loss(w, x, y, a, train_idx, l2_reg, dropout)
        grads = torch.autograd.grad(loss, w, create_graph=True)
        w, st = adam_step(w, list(grads), st, inner_lr)
        losses.append(float(loss.detach()))
    outer = validation_loss(w, x, y, graph(), val_idx)
    (hg,) = torch.autograd.grad(outer, theta)
    return hg, [wi.detach() for wi in w], st.detach(), losses


def frozen_steps(
    theta: torch.Tensor,
    weights: list[torch.Tensor],
    state: AdamState,
    x: torch.Tensor,
    y: torch.Tensor,
    train_idx: torch.Tensor,
    tau: int,
    inner_lr: float,
    l2_reg: float = 5e-4,
    dropout: float = 0.5,
    generator: torch.Generator | None = None,
    dense: bool = False,
    fixed: torch.Tensor | None = None,
) -> tuple[list[torch.Tensor], AdamState, list[float]]:
    r"""The ``tau`` inner steps of :func:`hypergradient` with :math:`\theta` held fixed (outer rate 0).

    The same Adam steps on the same sampled graphs (the generator draws the ``tau`` training
    graphs and the one validation graph that :func:`hypergradient` would draw), without the
    second-order graph through the unroll. LDS with ``outer_lr = 0`` is therefore the GCN trained
    with LDS's whole recipe (restarts, inner early stopping, selection on the early-stopping set,
    expected prediction) on the graph it starts from: the control that isolates learning the graph.
    ``fixed``: the graph every sample equals when :math:`\theta` is 0/1 (:func:`fixed_graph`), used
    instead of the sample; the generator still draws the same numbers.
    Returns ``(new weights, new Adam state, training losses of the tau steps)``.
    """
    if tau < 1:
        raise ValueError(f"tau must be >= 1, got {tau}")
    upper = theta.triu(1)
    mean_graph = upper + upper.t()
    w = [wi.detach().requires_grad_() for wi in weights]
    st = state.detach()
    losses = []
    for _ in range(tau):
        a = mean_graph if dense else _sample_or_fixed(theta, generator, fixed)
        loss = gcn_training_loss(w, x, y, a, train_idx, l2_reg, dropout)
        grads = torch.autograd.grad(loss, w)
        with torch.no_grad():
            new_w, st = adam_step([wi.detach() for wi in w], list(grads), st, inner_lr)
        w = [wi.requires_grad_() for wi in new_w]
        losses.append(float(loss.detach()))
    if not dense:  # keep the generator in step with hypergradient's validation sample
        _sample_or_fixed(theta, generator, fixed)
    return [wi.detach() for wi in w], st.detach(), losses


def fixed_graph(theta: torch.Tensor) -> torch.Tensor | None:
    r"""The sparse graph :math:`\theta_\triangle + \theta_\triangle^\top` if every entry of :math:`\theta`
    is 0 or 1 (then every Bernoulli sample is this graph), else ``None``."""
    upper = theta.detach().triu(1)
    if not bool(((upper == 0) | (upper == 1)).all()):
        return None
    return (upper + upper.t()).to_sparse().coalesce()


def _sample_or_fixed(theta: torch.Tensor, generator: torch.Generator | None,
                     fixed: torch.Tensor | None) -> torch.Tensor:
    if fixed is None:
        return sample_graph(theta, generator, straight_through=False)
    # the draws sample_graph would make, so that later weight inits from the generator are the same
    uniform_like(theta, generator)
    return fixed


@torch.no_grad()
def expected_prediction(
    weights: list[torch.Tensor], x: torch.Tensor, theta: torch.Tensor, n_samples: int = 16,
    generator: torch.Generator | None = None, dense: bool = False, fixed: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Class probabilities averaged over sampled graphs: :math:`\frac1S\sum_s \mathrm{softmax} f_w(X, A_s)`.

    The paper's prediction :math:`\mathbb E_{A\sim\mathrm{Ber}(\theta)}[f_w(X, A)]` (Sec. 3.1) by Monte
    Carlo with ``n_samples`` graphs (16 in the official code). ``dense=True`` uses the mean graph
    once instead; ``fixed`` as in :func:`frozen_steps`. Returns (N, C).
    """
    _check_square(theta)
    if dense:
        return torch.softmax(gcn_forward(weights, x, expected_adjacency(theta)), dim=1)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    out = 0.0
    for _ in range(n_samples):
        a = _sample_or_fixed(theta, generator, fixed)
        out = out + torch.softmax(gcn_forward(weights, x, a), dim=1)
    return out / n_samples


@dataclass
class LDSResult:
    """What :func:`train_lds` returns: the best iteration's accuracies and the learned ``theta``."""

    es_accuracy: float
    test_accuracy: float
    val_accuracy: float
    theta: torch.Tensor
    weights: list[torch.Tensor]
    best_iteration: int
    history: dict[str, list[float]] = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def _accuracy(prob: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> float:
    return (prob[idx].argmax(1) == y[idx]).float().mean().item()


def train_lds(
    x: torch.Tensor,
    y: torch.Tensor,
    theta: torch.Tensor,
    split: dict[str, torch.Tensor],
    config: LDSConfig | None = None,
    seed: int = 0,
    desc: str = "LDS",
) -> LDSResult:
    """Run LDS (Algorithm 1) from the initial edge probabilities ``theta``.

    Args:
        x: (N, F) features; y: (N,) integer labels.
        theta: (N, N) initial probabilities (see :func:`init_edge_probabilities`).
        split: index tensors ``train`` (fits w), ``val`` (drives the hypergradient),
            ``es`` (early stopping) and ``test``.
        config: :class:`LDSConfig`.
    Returns:
        :class:`LDSResult` with the test accuracy at the iteration of best es accuracy.

    ``seed`` fixes the weight inits and the sampled graphs; dropout draws from torch's global
    generator, which the caller seeds (as :mod:`companion.lds.experiments` does per method).
    """
    config = config or LDSConfig()
    _check_square(theta)
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0] or theta.shape[0] != x.shape[0]:
        raise ValueError(
            f"expected x (N, F), y (N,), theta (N, N); got {tuple(x.shape)}, {tuple(y.shape)}, {tuple(theta.shape)}"
        )
    missing = {"train", "val", "es", "test"} - set(split)
    if missing:
        raise ValueError(f"split is missing {sorted(missing)}; expected keys train, val, es, test")
    gen = torch.Generator().manual_seed(int(seed))
    num_classes = int(y.max()) + 1
    theta = project_probabilities(theta.to(x.device))  # LDS runs where the features are (--device)
    history: dict[str, list[float]] = {"es_acc": [], "val_acc": [], "test_acc": [], "train_loss": [],
                                       "mean_p": [], "inner_steps": [], "es_loss": []}
    n_pairs = max(1, x.shape[0] * (x.shape[0] - 1) // 2)
    best = None
    since_best = 0
    hyper_step = 0
    bar = progress(range(config.max_outer_iterations), desc=desc)
    frozen = config.outer_lr == 0.0
    fixed = fixed_graph(theta) if frozen and config.sparse and not config.dense else None
    for it in bar:
        weights = init_gcn_weights(x.shape[1], num_classes, config.hidden, gen, device=x.device)
        state = AdamState.zeros_like(weights)
        best_loss, inner_pat, steps, last_loss = None, config.inner_patience, 0, float("nan")
        while steps < config.max_inner_steps and inner_pat > 0:
            if frozen:  # the control "same recipe, graph not learned": no hypergradient to pay for
                weights, state, losses = frozen_steps(
                    theta, weights, state, x, y, split["train"], config.tau, config.inner_lr,
                    config.l2_reg, config.dropout, gen, config.dense, fixed)
            else:
                hg, weights, state, losses = hypergradient(
                    theta, weights, state, x, y, split["train"], split["val"], config.tau,
                    config.inner_lr, config.l2_reg, config.dropout, gen, config.dense)
                lr = config.outer_lr / (1.0 + config.outer_lr_decay * hyper_step)
                theta = project_probabilities(theta - lr * hg)
            hyper_step += 1
            steps += config.tau
            # the official min-decrease condition: patience resets when the loss drops by a factor
            for loss in losses:
                if best_loss is None or loss < best_loss * (1.0 - config.min_decrease):
                    best_loss, inner_pat = loss, config.inner_patience
                else:
                    inner_pat -= 1
            last_loss = losses[-1]
        prob = expected_prediction(weights, x, theta, config.n_samples, gen, config.dense, fixed)
        es_acc, val_acc, test_acc = (_accuracy(prob, y, split[k]) for k in ("es", "val", "test"))
        es_loss = F.nll_loss(prob[split["es"]].clamp_min(1e-12).log(), y[split["es"]]).item()
        for key, value in (("es_acc", es_acc), ("val_acc", val_acc), ("test_acc", test_acc),
                           ("train_loss", last_loss), ("mean_p", float(theta.sum()) / n_pairs),
                           ("inner_steps", steps), ("es_loss", es_loss)):
            history[key].append(value)
        # small es sets tie often: a tie in accuracy goes to the lower es loss (our choice)
        if best is None or (es_acc, -es_loss) > (best[0], -best[6]):
            best = (es_acc, test_acc, val_acc, theta.clone(), [w.clone() for w in weights], it, es_loss)
            since_best = 0
        else:
            since_best += 1
        bar.set_postfix(es=f"{es_acc:.3f}", test=f"{test_acc:.3f}")
        if since_best >= config.patience:
            break
    es_acc, test_acc, val_acc, theta_best, w_best, it_best, _ = best
    return LDSResult(es_acc, test_acc, val_acc, theta_best, w_best, it_best, history, asdict(config))
