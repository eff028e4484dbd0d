"""Leaky integrate-and-fire neurons with a surrogate gradient (the from-scratch step and snntorch's layer).

The discrete LIF neuron with reset by subtraction, as snntorch's ``Leaky`` implements it:

.. math::
    R[t] = \\Theta(U[t-1] - \\vartheta)\\ \\text{(detached)}, \\qquad
    U[t] = \\beta U[t-1] + I[t] - R[t]\\,\\vartheta, \\qquad
    S[t] = \\Theta(U[t] - \\vartheta),

with :math:`\\beta = 1 - 1/\\tau`. The paper's lab uses LIF neurons with :math:`\\tau = 2` and
threshold :math:`\\vartheta = 1` (SpikingJelly, which also divides the input by :math:`\\tau`; a
learned weight absorbs that factor), so the defaults here are :math:`\\beta = 0.5`, :math:`\\vartheta = 1`.
The Heaviside :math:`\\Theta` has zero gradient almost everywhere; the *surrogate gradient*
replaces its derivative in the backward pass by the fast sigmoid's,
:math:`\\partial S/\\partial U \\approx 1 / (k\\,|U - \\vartheta| + 1)^2` with slope :math:`k`.
"""

from __future__ import annotations

import torch

DEFAULT_TAU = 2.0
DEFAULT_THRESHOLD = 1.0
DEFAULT_SLOPE = 5.0


def beta_from_tau(tau: float) -> float:
    """Membrane decay per time step, :math:`\\beta = 1 - 1/\\tau` (``tau`` > 1 in time steps)."""
    if not tau > 1.0:
        raise ValueError(f"tau must be > 1 time step (beta = 1 - 1/tau in (0, 1)), got {tau}")
    return 1.0 - 1.0 / tau


class _FastSigmoidSpike(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid derivative backward."""

    @staticmethod
    def forward(ctx, u_shift: torch.Tensor, slope: float) -> torch.Tensor:
        ctx.save_for_backward(u_shift)
        ctx.slope = slope
        return (u_shift > 0).to(u_shift.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (u_shift,) = ctx.saved_tensors
        return grad_out / (ctx.slope * u_shift.abs() + 1.0) ** 2, None


def spike_fn(u_shift: torch.Tensor, slope: float = DEFAULT_SLOPE) -> torch.Tensor:
    """:math:`\\Theta(u)` with the fast-sigmoid surrogate derivative :math:`1/(k|u|+1)^2` (any shape)."""
    if slope <= 0:
        raise ValueError(f"slope must be > 0, got {slope}")
    return _FastSigmoidSpike.apply(u_shift, float(slope))


def lif_step(
    current: torch.Tensor,
    mem: torch.Tensor,
    beta: float = 0.5,
    threshold: float = DEFAULT_THRESHOLD,
    slope: float = DEFAULT_SLOPE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LIF time step (module docstring): returns ``(spikes, new_mem)``, both shaped like ``current``.

    ``current`` is the input :math:`I[t]`, ``mem`` the previous potential :math:`U[t-1]` (same shape).
    """
    if current.shape != mem.shape:
        raise ValueError(f"current and mem must have the same shape, got {tuple(current.shape)} and {tuple(mem.shape)}")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    reset = (mem > threshold).to(mem.dtype)  # detached, as in snntorch
    mem = beta * mem + current - reset * threshold
    return spike_fn(mem - threshold, slope), mem


def make_leaky(beta: float = 0.5, threshold: float = DEFAULT_THRESHOLD, slope: float = DEFAULT_SLOPE):
    """snntorch's ``Leaky`` layer with reset by subtraction and the fast-sigmoid surrogate."""
    import snntorch as snn
    from snntorch import surrogate

    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    return snn.Leaky(beta=beta, threshold=threshold, spike_grad=surrogate.fast_sigmoid(slope=slope),
                     reset_mechanism="subtract")
