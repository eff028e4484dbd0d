"""Chapter 1: sparse spiking networks (Louis et al., ICANN 2024).

Knowledge distillation, activation regularization and logits regularization to lower the
spiking activity of a surrogate-gradient SNN student (snntorch ``Leaky`` neurons).
"""

from companion.snn.encoding import encode
from companion.snn.losses import (LossConfig, activation_regularization, kd_loss, logits_regularization,
                                  parse_loss, student_loss)
from companion.snn.models import MLP, READOUTS, ConvNet, SpikingConvNet, SpikingMLP, build_model
from companion.snn.monitor import SpikeMonitor, spike_counts, spiking_activity
from companion.snn.neurons import beta_from_tau, lif_step, make_leaky, spike_fn
from companion.snn.train import (choose_from_sweep, evaluate_student, load_split, predict_logits, run_variant, summarize,
                                 train_student, train_teacher)

__all__ = ["encode", "LossConfig", "activation_regularization", "kd_loss", "logits_regularization", "parse_loss",
           "student_loss", "MLP", "READOUTS", "ConvNet", "SpikingConvNet", "SpikingMLP", "build_model", "SpikeMonitor",
           "spike_counts", "spiking_activity", "beta_from_tau", "lif_step", "make_leaky", "spike_fn",
           "choose_from_sweep", "evaluate_student", "load_split", "predict_logits", "run_variant", "summarize", "train_student",
           "train_teacher"]
