"""`drip-tiny train`: train a model on a dataset and write an int8 run directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drip_tiny.datasets import DATASET_NAMES, LoadOptions
from drip_tiny.errors import ConfigError
from drip_tiny.train.quantize_modes import QUANTIZE_MODES

NAME = "train"
HELP = "train a model and write the int8 run directory"
DESCRIPTION = (
    "Load a dataset, split it the paper's way (40% train / 20% validation / 40% production, "
    "plus a test split), train a float Keras model on the train split, convert it to a "
    "full-integer int8 TFLite model whose second output is the Grad-CAM target activation, and "
    "measure float and int8 test accuracy (int8 with the TFLM interpreter). Writes RUN/ with "
    "model.tflite, float_model.keras, metadata.json, metrics.json, history.json, splits.npz.")


def _image_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(f"expected HxW such as 32x32 or a single size, got {text!r}")
    return size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="digits", metavar="NAME",
                      help=f"dataset: {', '.join(DATASET_NAMES)}")
    data.add_argument("--data-dir", type=Path, metavar="DIR",
                      help="where the dataset's files are (not needed for digits; fashion-mnist "
                           "defaults to Debian's /usr/share/datasets/fashion-mnist)")
    data.add_argument("--image-size", type=_image_size, default=(32, 32), metavar="HxW",
                      help="image-folder: resize every image to this size")
    data.add_argument("--color", choices=("rgb", "grayscale"), default="rgb",
                      help="image-folder: channels to keep")
    data.add_argument("--words", metavar="W1,W2,...",
                      help="speech-commands: the words to classify (default: every word folder)")
    data.add_argument("--max-per-class", type=int, metavar="N",
                      help="use at most N samples per class from each of the dataset's splits")
    data.add_argument("--extra", type=Path, metavar="KEPT.npz",
                      help="add these samples (from `drip-tiny pull`) to the train split; "
                           "labelled with its y array if present, else with the device's "
                           "predicted class (pseudo-labels, see docs/hil.md)")
    data.add_argument("--seed", type=int, default=0, help="seed of the split and of training")

    model = parser.add_argument_group("model")
    model.add_argument("--model", metavar="NAME|FILE",
                       help="built-in 'cnn' (images) or 'cnn1d' (raw audio), or a Keras model file "
                            "(.keras/.h5); default: the built-in model for the dataset's kind")
    model.add_argument("--target-layer", metavar="LAYER",
                       help="Grad-CAM target layer (default: the last convolution, with the "
                            "BatchNorm/ReLU the int8 model fuses into it)")
    model.add_argument("--quantize", choices=QUANTIZE_MODES, default="ptq",
                       help="ptq: full-integer post-training quantization; qat: quantization-aware "
                            "fine-tuning with tfmot, then conversion")
    model.add_argument("--epochs", type=int, metavar="N",
                       help="training epochs (default: enough for ~3600 steps, within 10..200)")
    model.add_argument("--qat-epochs", type=int, metavar="N",
                       help="QAT fine-tuning epochs (default: a tenth of --epochs, at least 2)")
    model.add_argument("--batch-size", type=int, default=32)
    model.add_argument("--learning-rate", type=float, default=3e-3,
                       help="Adam's initial learning rate (cosine decay; a tenth of it for QAT)")

    out = parser.add_argument_group("output")
    out.add_argument("--out", type=Path, metavar="RUN",
                     help="run directory to write (default: runs/<dataset>)")
    out.add_argument("--force", action="store_true", help="replace RUN if it exists")
    out.add_argument("--quiet", action="store_true",
                     help="print only the summary: no progress bars or messages")


def run(args: argparse.Namespace) -> int:
    from drip_tiny.train.train_run import TrainConfig, train_run

    if args.max_per_class is not None and args.max_per_class < 1:
        raise ConfigError(f"--max-per-class must be at least 1, got {args.max_per_class}")
    words = tuple(w.strip() for w in args.words.split(",") if w.strip()) if args.words else None
    config = TrainConfig(
        dataset=args.dataset, out=args.out or Path("runs") / args.dataset, data_dir=args.data_dir,
        load_options=LoadOptions(image_size=args.image_size, color=args.color, words=words,
                                 max_per_class=args.max_per_class),
        model=args.model, target_layer=args.target_layer, quantize=args.quantize,
        epochs=args.epochs, qat_epochs=args.qat_epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, seed=args.seed, force=args.force, extra=args.extra,
        progress=not args.quiet and sys.stderr.isatty())
    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    result = train_run(config, log=log)
    m = result.metrics
    arena = m["tflm_arena_bytes"]
    print(f"run directory     {result.run}")
    print(f"float test acc    {100 * m['float_test_accuracy']:.2f}%  ({m['test_samples']} samples)")
    print(f"int8 test acc     {100 * m['int8_test_accuracy']:.2f}%  (TFLM; "
          f"{m['int8_minus_float_points']:+.2f} points vs float)")
    print(f"int8 model        {m['model_tflite_bytes']:,} bytes, {m['parameters']:,} parameters")
    print(f"TFLM arena        {arena['total']:,} bytes ({arena['head']:,} activations + "
          f"{arena['tail']:,} bookkeeping, 64-bit host)")
    int8 = result.metadata["int8"]
    print(f"Grad-CAM target   {result.metadata['model']['target_layer']} "
          f"{'x'.join(str(d) for d in int8['target']['shape'][1:])} int8; "
          f"head {' -> '.join(int8['head_ops'])}")
    print(f"time              {m['train_seconds']:.1f} s training, {m['total_seconds']:.1f} s total")
    return 0
