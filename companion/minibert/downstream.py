"""The downstream task: which library does a sentence document? Fine-tuning and a linear probe."""

from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from companion.minibert.mixed import device_of, on_device
from companion.utils import progress

Encode = Callable[[Sequence[str]], dict]


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the hidden states over the real tokens: (B, L, d), (B, L) -> (B, d)."""
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0)


class SentenceClassifier(nn.Module):
    """A BERT encoder, mean pooling, dropout and a linear layer."""

    def __init__(self, encoder: nn.Module, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))


def _check(sentences: Sequence[str], labels: Sequence[int]) -> None:
    if len(sentences) != len(labels) or len(sentences) == 0:
        raise ValueError(f"need as many labels as sentences (and at least one), got {len(sentences)} and {len(labels)}")


@torch.no_grad()
def classify(model: SentenceClassifier, encode: Encode, sentences: Sequence[str], batch_size: int = 128) -> torch.Tensor:
    """Predicted class of each sentence."""
    model.eval()
    preds = []
    for start in range(0, len(sentences), batch_size):
        enc = on_device(encode(sentences[start:start + batch_size]), device_of(model))
        preds.append(model(enc["input_ids"], enc["attention_mask"]).argmax(1))
    return torch.cat(preds).cpu()


def fine_tune(encoder: nn.Module, encode: Encode, train_x: Sequence[str], train_y: Sequence[int],
              test_x: Sequence[str], test_y: Sequence[int], epochs: int = 3, lr: float = 5e-4, batch_size: int = 32,
              seed: int = 0, desc: str = "fine-tune", val_x: Sequence[str] | None = None,
              val_y: Sequence[int] | None = None, patience: int = 0) -> dict[str, float]:
    """Fine-tune a copy of ``encoder`` with a classifier on ``train`` (all weights train, AdamW with
    linear decay over ``epochs``) and report test accuracy. The encoder passed in is not modified.

    With ``patience`` > 0, ``epochs`` is a cap: accuracy on ``val_x``/``val_y`` is measured after
    every epoch, training stops once it has not risen for ``patience`` epochs, and the weights of
    the best validation epoch (the first, on ties) are tested; the result then also holds
    ``best_epoch``, ``epochs_run`` and ``val_accuracy``.
    """
    _check(train_x, train_y)
    _check(test_x, test_y)
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if patience < 0:
        raise ValueError(f"patience must be >= 0, got {patience}")
    if patience:
        if val_x is None or val_y is None:
            raise ValueError("early stopping (patience > 0) needs validation sentences val_x and labels val_y")
        _check(val_x, val_y)
    torch.manual_seed(seed)
    model = SentenceClassifier(copy.deepcopy(encoder), int(max(max(train_y), max(test_y))) + 1).to(device_of(encoder))
    for p in model.parameters():
        p.requires_grad_(True)
    y = torch.tensor(list(train_y))
    steps = epochs * ((len(train_x) + batch_size - 1) // batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    g = torch.Generator().manual_seed(seed)
    best, best_epoch, best_state, epoch = -1.0, 0, None, 0
    for epoch in progress(range(1, epochs + 1), desc=desc):
        model.train()
        for idx in torch.randperm(len(train_x), generator=g).split(batch_size):
            enc = on_device({**encode([train_x[i] for i in idx.tolist()]), "y": y[idx]}, device_of(model))
            loss = F.cross_entropy(model(enc["input_ids"], enc["attention_mask"]), enc["y"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if patience:
            val_acc = int((classify(model, encode, val_x) == torch.tensor(list(val_y))).sum()) / len(val_y)
            if val_acc > best:
                best, best_epoch, best_state = val_acc, epoch, copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= patience:
                break
    extra = {}
    if patience:
        model.load_state_dict(best_state)
        extra = {"best_epoch": best_epoch, "epochs_run": epoch, "val_accuracy": best}
    pred = classify(model, encode, test_x)
    correct = int((pred == torch.tensor(list(test_y))).sum())
    # accuracy as correct / total in float64 (a float32 mean would differ from the probe's in the 8th digit)
    return {"accuracy": correct / len(test_y), "correct": correct, "predictions": pred.tolist(), **extra}


@torch.no_grad()
def sentence_features(encoder: nn.Module, encode: Encode, sentences: Sequence[str], batch_size: int = 128) -> np.ndarray:
    """Mean-pooled last hidden states of a frozen encoder, (N, d)."""
    encoder.eval()
    out = []
    for start in range(0, len(sentences), batch_size):
        enc = on_device(encode(sentences[start:start + batch_size]), device_of(encoder))
        hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        out.append(mean_pool(hidden, enc["attention_mask"]))
    return torch.cat(out).cpu().numpy()


def linear_probe(encoder: nn.Module, encode: Encode, train_x: Sequence[str], train_y: Sequence[int],
                 test_x: Sequence[str], test_y: Sequence[int], c: float = 1.0, c_grid: Sequence[float] = (),
                 val_x: Sequence[str] | None = None, val_y: Sequence[int] | None = None) -> dict[str, float]:
    """Logistic regression (scikit-learn) on frozen, standardised sentence features.

    With a ``c_grid``, ``C`` is the grid value with the best accuracy on ``val_x``/``val_y`` (the
    smallest on ties) instead of ``c``; the result then also holds ``c`` and ``val_accuracy``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check(train_x, train_y)
    _check(test_x, test_y)
    features = sentence_features(encoder, encode, train_x)

    def fit(c_value: float):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c_value, max_iter=2000)).fit(
            features, np.asarray(train_y))

    extra = {}
    if c_grid:
        if val_x is None or val_y is None:
            raise ValueError("choosing C on validation (c_grid) needs validation sentences val_x and labels val_y")
        _check(val_x, val_y)
        val_features = sentence_features(encoder, encode, val_x)
        fits = {c_value: fit(c_value) for c_value in dict.fromkeys(c_grid)}
        val_acc = {c_value: float((f.predict(val_features) == np.asarray(val_y)).mean()) for c_value, f in fits.items()}
        c = max(fits, key=lambda c_value: (val_acc[c_value], -c_value))
        clf, extra = fits[c], {"c": c, "val_accuracy": val_acc[c]}
    else:
        clf = fit(c)
    pred = clf.predict(sentence_features(encoder, encode, test_x))
    correct = int((pred == np.asarray(test_y)).sum())
    return {"accuracy": correct / len(test_y), "correct": correct, "predictions": pred.tolist(), **extra}
