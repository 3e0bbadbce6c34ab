"""Which output of an int8 model is the logits and which the Grad-CAM target activation.

The converter does not promise an output order (QAT models come out reversed), so outputs
are told apart by shape: logits are (1, classes), the target is a 1D or 2D feature map.
Checks that the model is full-integer and that the target tensor really feeds the head,
so the device computes Grad-CAM from the very tensor the classifier reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from drip_tiny.errors import QuantizationError
from drip_tiny.tflite.flatbuffer import ModelInfo, TensorInfo, read_model


class TensorMetadata(TypedDict):
    name: str
    shape: list[int]
    dtype: str  # lower case: int8, int32, float32
    scale: float
    zero_point: int


class LayoutMetadata(TypedDict):
    """What metadata.json records of the layout (Int8Layout.as_metadata)."""
    input: TensorMetadata
    logits: TensorMetadata
    target: TensorMetadata
    logits_output: int
    target_output: int
    ops: list[str]
    head_ops: list[str]


@dataclass(frozen=True)
class Int8Layout:
    info: ModelInfo
    input: TensorInfo
    logits: TensorInfo
    target: TensorInfo
    logits_output: int  # index into the .tflite's outputs
    target_output: int

    def as_metadata(self) -> LayoutMetadata:
        def tensor(t: TensorInfo) -> TensorMetadata:
            return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower(),
                    "scale": t.scale, "zero_point": t.zero_point}
        return {"input": tensor(self.input), "logits": tensor(self.logits),
                "target": tensor(self.target), "logits_output": self.logits_output,
                "target_output": self.target_output, "ops": list(self.info.op_names),
                "head_ops": head_ops(self.info, self.target.index)}


def head_ops(info: ModelInfo, target_index: int) -> list[str]:
    """Names of the operators between the target activation and the logits, in graph order."""
    reached = {target_index}
    names = []
    for op in info.operators:  # TFLite stores operators in execution order
        if any(i in reached for i in op.inputs):
            reached.update(op.outputs)
            names.append(op.name)
    return names


def inspect_int8_model(data: bytes, num_classes: int, sample_shape: tuple[int, ...]) -> Int8Layout:
    info = read_model(data)
    if len(info.inputs) != 1:
        raise QuantizationError(f"the int8 model has {len(info.inputs)} inputs; expected one")
    inp = info.inputs[0]
    if inp.dtype != "INT8":
        raise QuantizationError(f"the model's input is {inp.dtype}, not INT8: convert it with "
                                "int8 input and output types (full-integer quantization)")
    if tuple(inp.shape[1:]) != tuple(sample_shape):
        raise QuantizationError(f"the model's input shape {inp.shape} does not match the samples "
                                f"{tuple(sample_shape)}")
    if len(info.outputs) != 2:
        raise QuantizationError(f"the int8 model has {len(info.outputs)} outputs; drip-tiny models "
                                "have two: logits and the Grad-CAM target activation")
    bad = [t.name for t in info.outputs if t.dtype != "INT8"]
    if bad:
        raise QuantizationError(f"outputs {bad} are not INT8; convert with int8 output type")
    logits_at = [i for i, t in enumerate(info.outputs) if t.shape == (1, num_classes)]
    target_at = [i for i, t in enumerate(info.outputs) if len(t.shape) in (3, 4)]
    if len(logits_at) != 1 or len(target_at) != 1:
        raise QuantizationError(
            f"cannot tell the logits (1, {num_classes}) from the target feature map among the "
            f"output shapes {[t.shape for t in info.outputs]}")
    logits, target = info.outputs[logits_at[0]], info.outputs[target_at[0]]
    if not info.consumers(target.index):
        raise QuantizationError(
            f"the target activation {target.name!r} feeds no operator in the int8 model, so it is "
            "not the tensor the classifier reads; choose a target layer inside the network")
    return Int8Layout(info=info, input=inp, logits=logits, target=target,
                      logits_output=logits_at[0], target_output=target_at[0])
