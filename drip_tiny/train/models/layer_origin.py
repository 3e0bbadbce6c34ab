"""Which Keras layer a TFLite operator, or a TensorFlow op, came from: to name it in errors.

The converter names a tensor after the TensorFlow ops it was made from, under Keras's name
scopes: 'model/conv1/Relu;model/conv1/BiasAdd'. The first path segment that is a layer's
name is the layer (a nested model's segments are followed into it). A graph output is
renamed ('StatefulPartitionedCall:0'), but its operator's constant inputs (the weights,
'model/logits/MatMul') still carry the name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drip_tiny.tf_seam import keras, tf
from drip_tiny.tflite.flatbuffer import ModelInfo, OperatorInfo

# Keras and TensorFlow are untyped (tf_seam): keras.Model, keras.layers.Layer and the graph's
# protocol buffers are Any; the Keras names are kept in annotations for the reader.

def _unwrap(layer: keras.layers.Layer) -> keras.layers.Layer:
    """tfmot's QuantizeWrapper stands for the layer it wraps (QAT names it quant_<name>)."""
    if type(layer).__name__.startswith("QuantizeWrapper"):
        return layer.layer
    return layer


def _match(container: keras.Model, segments: list[str]) -> keras.layers.Layer | None:
    by_name = {layer.name: layer for layer in container.layers}
    for k, segment in enumerate(segments):
        layer = by_name.get(segment)
        if layer is None:
            continue
        layer = _unwrap(layer)
        if isinstance(layer, keras.Model):  # a nested model: its own layers are named inside
            return _match(layer, segments[k + 1:]) or layer
        return layer
    return None


def layer_for_names(model: keras.Model, names: Iterable[str]) -> keras.layers.Layer | None:
    """The first layer of `model` that one of the tensor/op `names` belongs to, or None."""
    for joined in names:
        for name in joined.split(";"):
            segments = name.split(":")[0].split("/")
            if segments and segments[0] == model.name:
                segments = segments[1:]
            layer = _match(model, segments)
            if layer is not None:
                return layer
    return None


def layer_for_operator(model: keras.Model, info: ModelInfo,
                       op: OperatorInfo) -> keras.layers.Layer | None:
    """The layer a TFLite operator of `model`'s conversion came from, or None."""
    names = [info.tensors[o].name for o in op.outputs]
    names += [info.tensors[i].name for i in op.inputs if i >= 0 and info.tensors[i].is_constant]
    return layer_for_names(model, names)


def layers_running(model: keras.Model, op_types: Iterable[str]) -> list[keras.layers.Layer]:
    """Layers of `model` whose traced TensorFlow graph (with the functions it calls, e.g. a
    recurrent layer's loop) holds an op of one of `op_types` ('TensorListReserve')."""
    wanted = set(op_types)
    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], model.inputs[0].dtype)
    graph = tf.function(model).get_concrete_function(spec).graph.as_graph_def()
    library = {f.signature.name: f for f in graph.library.function}

    def called(node: Any) -> list[str]:  # a NodeDef
        return [a.func.name for a in node.attr.values() if a.func.name] + \
            [f.name for a in node.attr.values() for f in a.list.func]

    def holds(function: str, seen: set[str]) -> bool:
        if function in seen or function not in library:
            return False
        seen.add(function)
        return any(n.op in wanted or any(holds(f, seen) for f in called(n))
                   for n in library[function].node_def)

    found: list[keras.layers.Layer] = []
    for node in graph.node:
        if node.op in wanted or any(holds(f, set()) for f in called(node)):
            layer = layer_for_names(model, [node.name])
            if layer is not None and all(layer is not other for other in found):
                found.append(layer)
    return found


def describe(layer: keras.layers.Layer) -> str:
    """'name' (Class, the options that decide how it converts)."""
    try:
        config = layer.get_config()
    except (NotImplementedError, TypeError, ValueError):
        config = {}
    extras = []
    activation = config.get("activation")
    # A recurrent layer's activation is part of its cell, not how it converts.
    if isinstance(activation, str) and activation != "linear" \
            and not isinstance(layer, keras.layers.RNN):
        extras.append(f"activation={activation!r}")
    dilation = config.get("dilation_rate")
    if dilation is not None:
        dilation = tuple(dilation) if isinstance(dilation, (list, tuple)) else (dilation,)
        if any(d != 1 for d in dilation):
            extras.append(f"dilation_rate={dilation if len(dilation) > 1 else dilation[0]}")
    return f"{layer.name!r} ({', '.join([type(layer).__name__, *extras])})"
