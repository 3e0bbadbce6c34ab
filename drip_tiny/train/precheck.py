"""`drip-tiny train`'s check before training: does this model lower to the device?

An untrained copy of the model goes down the path its trained self will take: full-integer
int8 conversion (calibrated on a few training samples; QAT models are wrapped by tfmot
first, as training would), then what `export` does to the .tflite
(drip_tiny.export.app_model.lower_for_device: the code generator lowers every operator,
the DRIP kernel reads the Grad-CAM head). A refusal is told in Keras terms: the layer, the
TFLite op (and option), a replacement where there is one, and the ops the code generator
supports, from its own registry (drip_tiny.codegen.ops). Limits that depend on trained
values (a rescale out of range) cannot be known here; `export` checks them again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from drip_tiny.codegen import ops as codegen_ops
from drip_tiny.errors import CodegenError, ModelError, QuantizationError
from drip_tiny.train.models import layer_origin

if TYPE_CHECKING:
    from drip_tiny.drip.int8_head import HeadOpError
    from drip_tiny.tf_seam import keras  # Any: Keras has no type information
    from drip_tiny.tflite.flatbuffer import ModelInfo, OperatorInfo

CALIBRATION_SAMPLES = 8  # enough for the converter to set ranges; the scales do not matter here

_RECURRENT = ("replace the recurrent layer with Conv1D layers over the time axis (the "
              "built-in --model cnn1d is one such network)")
_NORMALIZATION = ("use BatchNormalization after a convolution: the converter folds it into "
                  "the convolution")
_UPSAMPLING = "no supported op upsamples: leave it out (a classifier only needs to downsample)"
_ACTIVATION = "use activation 'relu' or 'relu6', which the converter fuses into the layer"
# Replacements to suggest, by Keras layer type (looked up first), then by TFLite op. They
# only advise: what is supported is the code generator's registry (a test checks that no
# op here is in it).
INSTEAD_OF_LAYER: dict[str | None, str] = {  # looked up with None for no layer
    **dict.fromkeys(("LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D",
                     "ConvLSTM2D"), _RECURRENT),
    **dict.fromkeys(("LayerNormalization", "GroupNormalization", "UnitNormalization"),
                    _NORMALIZATION),
    **dict.fromkeys(("Conv1DTranspose", "Conv2DTranspose", "UpSampling1D", "UpSampling2D"),
                    _UPSAMPLING),
}
INSTEAD_OF_OP: dict[str | None, str] = {  # looked up with None for no operator
    **dict.fromkeys(("TANH", "GELU", "LEAKY_RELU", "PRELU", "ELU", "HARD_SWISH"), _ACTIVATION),
    "MUL": f"for a 'swish'/'silu' activation (x * sigmoid(x)), {_ACTIVATION}",
    "CONCATENATION": "sum the branches with an Add layer (equal shapes)",
    **dict.fromkeys(("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"),
                    "use dilation_rate=1, and more layers, a stride or pooling to widen "
                    "what each output sees"),
    **dict.fromkeys(("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "TRANSPOSE_CONV"),
                    _UPSAMPLING),
}
_WHEN = "found before training, on an untrained copy; nothing was trained or written"


def check_lowers(model: keras.Model, target_layer: str, x_train: np.ndarray, num_classes: int,
                 sample_shape: tuple[int, ...], quantize_mode: str) -> None:
    """Raise ModelError if `model` (logits output, untrained) cannot become the int8 model
    and generated C that `export` builds (QuantizationError if tfmot cannot wrap it for
    QAT: its message names the layer)."""
    from drip_tiny import codegen
    from drip_tiny.drip.int8_head import HeadOpError
    from drip_tiny.export.app_model import lower_for_device
    from drip_tiny.tflite.int8_layout import inspect_int8_model
    from drip_tiny.train import quantize
    from drip_tiny.train.models import with_target_output

    two_outputs = with_target_output(model, target_layer)
    converted = two_outputs
    if quantize_mode == quantize.QAT:
        converted = quantize.quantize_aware(two_outputs)  # its refusal names the layer
    try:
        tflite = quantize.convert_int8(converted, x_train[:CALIBRATION_SAMPLES])
    except QuantizationError as exc:
        raise _conversion_refusal(converted, exc) from None
    try:
        layout = inspect_int8_model(tflite, num_classes, sample_shape)
    except QuantizationError as exc:
        raise _cannot_run(model, exc) from None
    try:
        codegen.build(tflite)  # every operator first, so the earliest refusal is named
        lower_for_device(tflite, layout.target.index, layout.logits.index)
    except CodegenError as exc:
        raise _codegen_refusal(converted, layout.info, exc) from None
    except HeadOpError as exc:
        raise _head_refusal(converted, layout.info, exc, target_layer) from None
    except ModelError as exc:  # a branching head, an input the firmware cannot carry
        raise _cannot_run(model, exc) from None


def _cannot_run(model: keras.Model, exc: Exception) -> ModelError:
    return ModelError(f"model {model.name!r} cannot run on the device: {exc} ({_WHEN})")


def supported_ops_text() -> str:
    return (f"Supported TFLite ops: {', '.join(codegen_ops.supported_ops())} "
            "(docs/codegen.md)")


def suggestion(layer: keras.layers.Layer | None, op_name: str | None) -> str | None:
    kind = type(layer).__name__ if layer is not None else None
    return INSTEAD_OF_LAYER.get(kind) or INSTEAD_OF_OP.get(op_name)


def _sentence(text: str | None) -> str:
    return f" Instead: {text}." if text else ""


def _who(model: keras.Model, layers: list[keras.layers.Layer], info: ModelInfo | None = None,
         op: OperatorInfo | None = None) -> str:
    if not layers:
        names = ""
        if op is not None and op.outputs and info is not None:  # callers pass both or neither
            names = f"; its tensor {info.tensors[op.outputs[0]].name!r}"
        return f"a layer of model {model.name!r} (no tensor name tells which{names})"
    described = ", ".join(layer_origin.describe(layer) for layer in layers)
    return f"Keras layer{'s' if len(layers) > 1 else ''} {described}"


def _codegen_refusal(model: keras.Model, info: ModelInfo, exc: CodegenError) -> ModelError:
    if exc.operator is None:
        return _cannot_run(model, exc)
    op = info.operators[exc.operator]
    layer = layer_origin.layer_for_operator(model, info, op)
    if op.name in codegen_ops.supported_ops():
        why = f"drip-tiny's code generator refuses it here: {exc.detail}"
    else:
        reason = codegen_ops.refusal(op.name)
        why = (f"drip-tiny's code generator does not support it: {reason}" if reason
               else "drip-tiny's code generator has no kernel for it")
    return ModelError(
        f"{_who(model, [layer] if layer is not None else [], info, op)} becomes TFLite "
        f"{op.name} (operator {exc.operator}), which cannot run on the device: {why}."
        f"{_sentence(suggestion(layer, op.name))} {supported_ops_text()}; {_WHEN}")


def _head_refusal(model: keras.Model, info: ModelInfo, exc: HeadOpError,
                  target_layer: str) -> ModelError:
    from drip_tiny.drip.int8_head import supported_head_ops

    layer = layer_origin.layer_for_operator(model, info, exc.op)
    return ModelError(
        f"{_who(model, [layer] if layer is not None else [], info, exc.op)} becomes TFLite "
        f"{exc.op.name} "
        f"in the Grad-CAM head (between the target layer {target_layer!r} and the logits), "
        f"which int8 Grad-CAM cannot differentiate: {exc.why}. Choose a later target layer "
        f"with --target-layer, or build the head from {supported_head_ops()}; {_WHEN}")


def _conversion_refusal(model: keras.Model, exc: QuantizationError) -> ModelError:
    """The converter's refusal, with the layers that hold the TensorFlow ops it names."""
    errors = list(getattr(exc.__cause__, "errors", None) or ())
    # Entries without a source location (a tf.Const) are consequences, not the cause.
    tf_ops = list(dict.fromkeys(e.operator.name.removeprefix("tf.") for e in errors
                                if e.operator.name and len(e.location.call) > 0))
    layers = layer_origin.layers_running(model, tf_ops) if tf_ops else []
    if not layers:
        first = next((e.error_message for e in errors if e.error_message), None)
        first = first or str(exc.__cause__ or exc).strip().splitlines()[0]
        return ModelError(f"model {model.name!r} cannot be converted to a full-integer int8 "
                          f"TFLite model: {first}. Every layer must become an int8 TFLite "
                          f"builtin op. {supported_ops_text()}; {_WHEN}")
    fixes = {fix for fix in (suggestion(layer, None) for layer in layers) if fix is not None}
    return ModelError(
        f"{_who(model, layers)} cannot be converted to a full-integer int8 TFLite model: the "
        f"converter has no int8 builtin op for TensorFlow's {', '.join(tf_ops)}."
        f"{_sentence('; '.join(sorted(fixes)) if fixes else None)} {supported_ops_text()}; "
        f"{_WHEN}")
