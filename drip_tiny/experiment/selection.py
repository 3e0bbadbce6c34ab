"""Streaming selection rules that compete with DRIP under the same storage budget.

Every rule sees the production stream through the baseline model (int8 logits on the int8
path) and keeps exactly `budget` samples: DRIP's kept count in the same run, so accuracy
differences come from *which* samples are kept, not how many.

- `random`: a uniformly random subset (the paper's random model).
- `reservoir`: reservoir sampling (Vitter's algorithm R) over the stream: what a device keeps
  when it can store `budget` samples and has no model-based rule.
- `entropy`, `margin`, `least_confidence`: uncertainty sampling on the softmax of the logits
  (keep the highest entropy, the smallest top-1 minus top-2 probability, the lowest top-1
  probability).
- `logit`: keep the samples with the lowest logit of the predicted class. For a head of
  global average pooling + dense, the raw DRIP score is close to a scaled logit, so this asks
  whether Grad-CAM earns its cost.
A score rule keeps the `budget` highest-priority samples: a streaming threshold set to the
budget's quantile, known here in hindsight (docs/experiment.md).
"""

from __future__ import annotations

import numpy as np

from drip_tiny.errors import ConfigError

SCORE_RULES = ("entropy", "margin", "least_confidence", "logit")
RULES = ("random", "reservoir") + SCORE_RULES


def check_rules(names: list[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ConfigError(f"unknown selection rule(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(RULES)}")
    return tuple(names)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)  # numpy's stubs: Any
    return probabilities


def priority(rule: str, logits: np.ndarray) -> np.ndarray:
    """Higher = keep first. `logits` float (N, classes)."""
    logits = np.asarray(logits, dtype=np.float64)
    out: np.ndarray  # numpy's stubs type reductions and slices as Any
    if rule == "logit":
        out = -logits.max(axis=1)
        return out
    p = _softmax(logits)
    if rule == "entropy":
        out = -(p * np.log(np.clip(p, 1e-300, None))).sum(axis=1)
        return out
    top2 = np.sort(p, axis=1)[:, -2:]
    if rule == "margin":
        out = -(top2[:, 1] - top2[:, 0])
        return out
    if rule == "least_confidence":
        out = 1.0 - top2[:, 1]
        return out
    raise ValueError(rule)


def reservoir(count: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Indices kept by algorithm R after a stream of `count` items with room for `budget`."""
    kept = list(range(min(budget, count)))
    for i in range(budget, count):
        j = int(rng.integers(0, i + 1))
        if j < budget:
            kept[j] = i
    return np.sort(np.array(kept, dtype=np.int64))


def select(rule: str, budget: int, logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean keep mask over the production stream with exactly `budget` True."""
    count = len(logits)
    if not 0 <= budget <= count:
        raise ValueError(f"budget {budget} outside 0..{count}")
    keep = np.zeros(count, dtype=bool)
    if rule == "random":
        keep[rng.choice(count, size=budget, replace=False)] = True
    elif rule == "reservoir":
        keep[reservoir(count, budget, rng)] = True
    else:
        # Stable sort: equal priorities keep the earlier sample, as a stream would.
        order = np.argsort(-priority(rule, logits), kind="stable")
        keep[order[:budget]] = True
    return keep
