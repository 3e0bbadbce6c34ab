"""Aggregate the runs: CSV files, a Markdown table like the paper's Table I, PNG plots."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from drip_tiny.experiment.config import ExperimentConfig

MODEL_TITLES = {"baseline": "Baseline", "all_data": "All-Data", "drip": "DRIP",
                "random": "Random", "reservoir": "Reservoir", "entropy": "Entropy",
                "margin": "Margin", "least_confidence": "Least conf.", "logit": "Logit"}

# A run's result (paper_protocol.run_protocol, read back from its JSON file) is a JSON
# object: dict[str, Any], nested values of several types.
RunResult = dict[str, Any]
MeanStd = tuple[float, float]  # NaN, NaN when no run has a value


class Summary(TypedDict):
    runs: int
    models: dict[str, dict[str, MeanStd]]  # model -> accuracy, macro_f1
    storage_savings: MeanStd
    kept: MeanStd
    seconds_per_decision: MeanStd
    retention_per_class: list[MeanStd]  # by predicted class


def _mean_std(values: Iterable[float | None]) -> MeanStd:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _pct(values: Iterable[float | None]) -> str:
    mean, std = _mean_std(values)
    return f"{100 * mean:.1f}% (±{100 * std:.1f}%)"


def summarize(runs: list[RunResult]) -> Summary:
    names = list(runs[0]["models"])
    # Built in one literal (so it checks as a Summary), keys in the order summary.json has.
    models = {name: {metric: _mean_std(r["models"][name][metric] for r in runs)
                     for metric in ("accuracy", "macro_f1")}
              for name in names}
    n_cls = len(runs[0]["retention_per_class"]["by_predicted"])
    return {"runs": len(runs), "models": models,
            "storage_savings": _mean_std(r["storage_savings"] for r in runs),
            "kept": _mean_std(r["kept"] for r in runs),
            "seconds_per_decision": _mean_std(r["seconds_per_decision"] for r in runs),
            "retention_per_class": [
                _mean_std(r["retention_per_class"]["by_predicted"][c] for r in runs)
                for c in range(n_cls)]}


def write_csv(out: Path, runs: list[RunResult]) -> list[Path]:
    written = [out / "results.csv"]
    with open(written[0], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "seed", "model", "accuracy", "macro_f1", "kept", "storage_savings"])
        for r in runs:
            for name, m in r["models"].items():
                w.writerow([r["run"], r["seed"], name, m["accuracy"], m["macro_f1"], r["kept"],
                            r["storage_savings"]])
    if runs[0]["sweep_dpw"]:
        written.append(out / "sweep_dpw.csv")
        with open(written[-1], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["run", "dpw", "kept", "storage_savings", "drip_accuracy",
                        "random_accuracy", "drip_macro_f1", "random_macro_f1"])
            for r in runs:
                for s in r["sweep_dpw"]:
                    w.writerow([r["run"], s["dpw"], s["kept"], s["storage_savings"],
                                s["drip"]["accuracy"], s["random"]["accuracy"],
                                s["drip"]["macro_f1"], s["random"]["macro_f1"]])
    if runs[0]["label_noise"]:
        written.append(out / "label_noise.csv")
        with open(written[-1], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["run", "percent", "flipped", "flipped_kept", "unfiltered_accuracy",
                        "drip_accuracy"])
            for r in runs:
                for s in r["label_noise"]:
                    w.writerow([r["run"], s["percent"], s["flipped"], s["flipped_kept"],
                                s["unfiltered"]["accuracy"], s["drip"]["accuracy"]])
    return written


def markdown(config: ExperimentConfig, runs: list[RunResult], class_names: list[str]) -> str:
    s = summarize(runs)
    names = list(s["models"])
    titles = [MODEL_TITLES.get(n, n) for n in names]
    lines = [f"# DRIP experiment: {config.dataset}", "",
             f"{len(runs)} runs (seeds {runs[0]['seed']}..{runs[-1]['seed']}), DPW {config.dpw:g}%, "
             f"{config.variant} DRIPS on the {config.path} path, retraining {config.retrain}, "
             f"{runs[0]['epochs']} epochs (retrain {runs[0]['retrain_epochs']}). Mean (± standard "
             "deviation) over runs; test split.", "",
             "## Test accuracy", "",
             "| Dataset | " + " | ".join(f"{t} Acc." for t in titles) + " | Storage Savings |",
             "|---|" + "---:|" * (len(names) + 1),
             f"| {config.dataset} | " + " | ".join(_pct(r["models"][n]["accuracy"] for r in runs)
                                             for n in names)
             + f" | {_pct(r['storage_savings'] for r in runs)} |", "",
             "## Macro F1", "",
             "| Dataset | " + " | ".join(titles) + " |", "|---|" + "---:|" * len(names),
             f"| {config.dataset} | " + " | ".join(_pct(r["models"][n]["macro_f1"] for r in runs)
                                             for n in names) + " |", "",
             "Every selection rule keeps the same number of production samples as DRIP in each run "
             f"(mean {s['kept'][0]:.1f} of {runs[0]['sizes']['production']}).", "",
             "## Retention per predicted class", "",
             "| class | retention |", "|---|---:|"]
    for c, name in enumerate(class_names):
        lines.append(f"| {name} | {_pct(r['retention_per_class']['by_predicted'][c] for r in runs)} |")
    mean, std = s["seconds_per_decision"]
    lines += ["", f"Time per retention decision (host Python, inference + Grad-CAM + DRIPS + rule): "
              f"{1e3 * mean:.3f} ms (±{1e3 * std:.3f})."]
    if runs[0]["sweep_dpw"]:
        lines += ["", "## DPW sweep", "", "| DPW | storage savings | DRIP acc. | Random acc. |",
                  "|---:|---:|---:|---:|"]
        for i, first in enumerate(runs[0]["sweep_dpw"]):
            rows = [r["sweep_dpw"][i] for r in runs]
            lines.append(f"| {first['dpw']:g}% | {_pct(x['storage_savings'] for x in rows)} | "
                         f"{_pct(x['drip']['accuracy'] for x in rows)} | "
                         f"{_pct(x['random']['accuracy'] for x in rows)} |")
    if runs[0]["label_noise"]:
        lines += ["", "## Label noise on the production split", "",
                  "| flipped labels | unfiltered acc. | DRIP-filtered acc. | flipped kept by DRIP |",
                  "|---:|---:|---:|---:|"]
        for i, first in enumerate(runs[0]["label_noise"]):
            rows = [r["label_noise"][i] for r in runs]
            kept = _mean_std((x["flipped_kept"] / x["flipped"]) if x["flipped"] else None for x in rows)
            lines.append(f"| {first['percent']:g}% | {_pct(x['unfiltered']['accuracy'] for x in rows)} | "
                         f"{_pct(x['drip']['accuracy'] for x in rows)} | "
                         + ("-" if np.isnan(kept[0]) else f"{100 * kept[0]:.1f}%") + " |")
    return "\n".join(lines) + "\n"


def plots(out: Path, runs: list[RunResult]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    s = summarize(runs)
    names = list(s["models"])
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2, 3.2))
    means = [100 * s["models"][n]["accuracy"][0] for n in names]
    stds = [100 * s["models"][n]["accuracy"][1] for n in names]
    ax.bar([MODEL_TITLES.get(n, n) for n in names], means, yerr=stds, capsize=3, color="#4477aa")
    low = min(m - d for m, d in zip(means, stds))
    ax.set_ylim(max(0, low - 2), min(100, max(means) + max(stds) + 1))
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{len(runs)} runs; storage savings {100 * s['storage_savings'][0]:.1f}%")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    written.append(out / "accuracy.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    if runs[0]["sweep_dpw"]:
        dpws = [x["dpw"] for x in runs[0]["sweep_dpw"]]
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        for key, label in (("drip", "DRIP"), ("random", "Random")):
            m = np.array([[r["sweep_dpw"][i][key]["accuracy"] for r in runs] for i in range(len(dpws))])
            ax.errorbar(dpws, 100 * m.mean(axis=1), yerr=100 * m.std(axis=1), label=label, capsize=3)
        for key, label, style in (("all_data", "All-Data", "--"), ("baseline", "Baseline", ":")):
            ax.axhline(100 * s["models"][key]["accuracy"][0], linestyle=style, color="gray", label=label)
        ax.set_xlabel("DPW (%)")
        ax.set_ylabel("test accuracy (%)")
        twin = ax.twinx()
        sav = [100 * np.mean([r["sweep_dpw"][i]["storage_savings"] for r in runs]) for i in range(len(dpws))]
        twin.plot(dpws, sav, color="#ee6677", marker="o", label="storage savings")
        twin.set_ylabel("storage savings (%)", color="#ee6677")
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        written.append(out / "sweep_dpw.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)

    if runs[0]["label_noise"]:
        levels = [x["percent"] for x in runs[0]["label_noise"]]
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        for key, label in (("unfiltered", "unfiltered"), ("drip", "DRIP-filtered")):
            m = np.array([[r["label_noise"][i][key]["accuracy"] for r in runs] for i in range(len(levels))])
            ax.errorbar(levels, 100 * m.mean(axis=1), yerr=100 * m.std(axis=1), label=label, capsize=3)
        ax.set_xlabel("production labels flipped (%)")
        ax.set_ylabel("test accuracy (%)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(out / "label_noise.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def write_report(out: Path, config: ExperimentConfig, runs: list[RunResult],
                 class_names: list[str]) -> list[Path]:
    import json

    out = Path(out)
    files = write_csv(out, runs)
    (out / "table.md").write_text(markdown(config, runs, class_names))
    (out / "summary.json").write_text(json.dumps(summarize(runs), indent=1) + "\n")
    files += [out / "table.md", out / "summary.json"]
    files += plots(out, runs)
    return files
