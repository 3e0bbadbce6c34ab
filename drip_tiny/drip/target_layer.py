"""Choosing the Grad-CAM target layer and exposing it as the model's second output.

The int8 model fuses a convolution with the BatchNormalization and ReLU that follow it, so
the only int8 tensor Grad-CAM can see is the one after them. A target is therefore a
convolution *unit*: the convolution plus the chain of BatchNormalization / ReLU / activation
layers that directly and solely consume it. Grad-CAM's map is built from that unit's output.
"""

from __future__ import annotations

from drip_tiny.errors import ModelError
from drip_tiny.tf_seam import keras

# Keras is untyped (tf_seam): keras.Model and keras.layers.Layer annotate Any, for the reader.

CONV_TYPES = ("Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
# Layers that TFLite folds into the convolution before them.
_FUSED_TYPES = ("BatchNormalization", "ReLU", "Activation")
_FUSABLE_ACTIVATIONS = ("relu", "relu6", "linear")


def _consumers(model: keras.Model, layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Layers of `model` that take `layer`'s output as an input."""
    out = []
    for other in model.layers:
        for node in other._inbound_nodes:  # tf_keras keeps the graph in inbound nodes
            inbound = node.inbound_layers
            inbound = inbound if isinstance(inbound, (list, tuple)) else [inbound]
            if any(src is layer for src in inbound):
                out.append(other)
                break
    return out


def _is_fusable(layer: keras.layers.Layer) -> bool:
    kind = type(layer).__name__
    if kind not in _FUSED_TYPES:
        return False
    if kind == "Activation":
        return getattr(layer.activation, "__name__", "") in _FUSABLE_ACTIVATIONS
    if kind == "ReLU":
        return not layer.negative_slope and not layer.threshold
    return True


def _follow_fused_chain(model: keras.Model, layer: keras.layers.Layer) -> keras.layers.Layer:
    while True:
        consumers = _consumers(model, layer)
        is_output = any(out is layer.output for out in model.outputs)
        if len(consumers) != 1 or not _is_fusable(consumers[0]) or is_output:
            return layer
        layer = consumers[0]


def feature_map_layers(model: keras.Model) -> list[str]:
    """Names of layers whose output is a 1D or 2D feature map (rank 3 or 4 with batch)."""
    names = []
    for layer in model.layers:
        shape = getattr(layer, "output_shape", None)
        if isinstance(shape, tuple) and len(shape) in (3, 4) and type(layer).__name__ != "InputLayer":
            names.append(layer.name)
    return names


def find_target_layer(model: keras.Model, name: str | None = None) -> tuple[str, str]:
    """Return (target layer name, the convolution it starts from).

    With `name` None, the last convolution of the model; else the layer called `name`, which
    must produce a 1D or 2D feature map. Either is then followed through any BatchNorm/ReLU
    chain the converter fuses into it.
    """
    if name is None:
        convs = [layer for layer in model.layers if type(layer).__name__ in CONV_TYPES]
        if not convs:
            raise ModelError(
                f"model {model.name!r} has no convolution ({', '.join(CONV_TYPES)}); Grad-CAM "
                "needs a convolutional feature map. Add a convolution, or name a layer with a "
                "1D/2D feature-map output with --target-layer")
        start = convs[-1]
    else:
        try:
            start = model.get_layer(name)
        except ValueError:
            raise ModelError(f"model {model.name!r} has no layer named {name!r}; layers with a "
                             f"feature-map output: {', '.join(feature_map_layers(model)) or 'none'}") from None
        if start.name not in feature_map_layers(model):
            raise ModelError(f"layer {name!r} outputs shape {start.output_shape}; a Grad-CAM target "
                             "must output a 1D (batch, steps, channels) or 2D (batch, h, w, channels) "
                             f"feature map. Candidates: {', '.join(feature_map_layers(model)) or 'none'}")
    return _follow_fused_chain(model, start).name, start.name


def logits_model(model: keras.Model) -> keras.Model:
    """`model` with a pre-softmax output: Grad-CAM differentiates the logit, not the probability.

    A final Softmax layer (or Activation('softmax')) is dropped; a final Dense with a softmax
    activation is replaced by a linear copy with the same weights.
    """
    if len(model.outputs) != 1:
        raise ModelError(f"model {model.name!r} has {len(model.outputs)} outputs; drip-tiny needs a "
                         "classifier with one output of shape (batch, classes)")
    last = model.layers[-1]
    kind = type(last).__name__
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if kind == "Softmax" or (kind == "Activation" and activation == "softmax"):
        return keras.Model(model.inputs, last.input, name=model.name)
    if kind == "Dense" and activation == "softmax":
        config = last.get_config()
        config["activation"] = "linear"
        config["name"] = last.name + "_logits"
        linear = keras.layers.Dense.from_config(config)
        outputs = linear(last.input)
        linear.set_weights(last.get_weights())
        return keras.Model(model.inputs, outputs, name=model.name)
    if activation not in (None, "linear"):
        raise ModelError(f"the last layer {last.name!r} applies {activation!r}; end the model in a "
                         "Dense layer with no activation (logits) or with softmax")
    return model


def with_target_output(model: keras.Model, target_layer: str) -> keras.Model:
    """A model with outputs [logits, target activation], in that order."""
    target = model.get_layer(target_layer)
    return keras.Model(model.inputs, [model.outputs[0], target.output], name=model.name)
