"""The op registry: one module per TFLite builtin op, looked up by the op's name.

Interface of an op module (``drip_tiny/codegen/ops/<op>.py``)
-------------------------------------------------------------
A full op module exposes

    lower(ctx: OpContext) -> Lowered

`ctx` (ops/base.py) holds the operator, its tensors and the model; its helpers raise a
CodegenError naming the op, the option and the tensor (``ctx.fail(msg, option=..., tensor=...)``).
`lower` does what TFLM's Prepare does: it checks types, shapes and every option it reads
(refusing the ones the kernel does not implement), derives the kernel parameters
(multipliers, shifts, activation range, padding) with drip_tiny.codegen.quant, counts MACs,
and says which C call to emit (Lowered: function, header, params struct, args, alias,
inplace). The C kernel lives in firmware/kernels/dt_<op>_s8.{c,h}; its header is the contract.

A "prepare" module (the form of softmax.py and logistic.py) instead exposes

    C_FUNCTION = "dt_softmax_s8"            # optional; default "dt_<module>_s8"
    prepare(input_scale, input_zero_point, output_scale, output_zero_point, **options) -> dict

where **options are the op's builtin options under their schema field names (e.g.
``beta`` for SOFTMAX). The registry wraps it (see `_prepared_unary`): it checks that input
and output are int8 tensors of one shape, then emits

    C_FUNCTION(const int8_t *input, <shape ints>, <prepare() values...>, int8_t *output);

with the shape ints ``int32_t rows, int32_t depth`` (SOFTMAX, over the last axis) or
``int32_t size`` (LOGISTIC), followed by the values of prepare()'s dict in its order (ints,
floats, or lists/arrays of ints, emitted as const int32_t arrays), then the output (the
kernels' own order: see dt_softmax_s8.h). The header is C_FUNCTION + ".h". prepare() may
raise ValueError or a DripTinyError: either becomes a CodegenError naming the op. A module's
optional check_shape(shape) refuses shapes its kernel cannot take.

A module may list the option fields it knows in ``OPTIONS`` (a set of schema field names):
the registry then refuses any other option that is set to a non-default value, naming it.

Registry entries whose module is missing raise "<OP> is not supported yet".
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Collection
from types import ModuleType

import numpy as np

from drip_tiny.codegen.ops.base import CArray, In, Lowered, OpContext, Out, Value, size_of
from drip_tiny.errors import CodegenError, DripTinyError

# op name -> module under drip_tiny.codegen.ops
_MODULES = {
    "CONV_2D": "conv_2d",
    "DEPTHWISE_CONV_2D": "depthwise_conv_2d",
    "FULLY_CONNECTED": "fully_connected",
    "MAX_POOL_2D": "max_pool_2d",
    "AVERAGE_POOL_2D": "average_pool_2d",
    "MEAN": "mean",
    "ADD": "add",
    "RESHAPE": "reshape",
    "EXPAND_DIMS": "reshape",
    "SQUEEZE": "reshape",
    "PAD": "pad",
    "PADV2": "pad",
    "QUANTIZE": "quantize",
    "DEQUANTIZE": "dequantize",
    "RELU": "relu",
    "RELU6": "relu",
    "SOFTMAX": "softmax",
    "LOGISTIC": "logistic",
}


def supported_ops() -> tuple[str, ...]:
    return tuple(sorted(_MODULES))


# Refused with a specific reason.
_REFUSED = {
    "SPACE_TO_BATCH_ND": "the TFLite converter writes a Keras dilated convolution as "
    "SPACE_TO_BATCH_ND -> CONV_2D -> BATCH_TO_SPACE_ND with batch-1 static shapes, on "
    "which TFLM's interpreter disagrees with TFLite (most outputs differ in our tests), so "
    "there is no reference to be exact with; build the model without dilation_rate",
}
_REFUSED["BATCH_TO_SPACE_ND"] = _REFUSED["SPACE_TO_BATCH_ND"]


def refusal(op_name: str) -> str | None:
    """Why an op the converter writes is refused on purpose, or None."""
    return _REFUSED.get(op_name)


def lower(ctx: OpContext) -> Lowered:
    """Check the operator and derive its C call, or raise CodegenError."""
    module_name = _MODULES.get(ctx.name)
    if ctx.name in _REFUSED:
        raise ctx.fail(f"not supported: {_REFUSED[ctx.name]}")
    if module_name is None:
        raise ctx.fail("this operator is not supported by drip-tiny's code generator "
                       f"(supported: {', '.join(supported_ops())})")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{module_name}":
            raise
        detail = "its kernel has not been merged into this branch"
        raise CodegenError(f"{ctx.name} is not supported yet ({ctx.where()}): {detail}",
                           op=ctx.name, operator=ctx.index, detail=detail) from None
    _check_options(ctx, getattr(module, "OPTIONS", None))
    if hasattr(module, "lower"):
        lowered: Lowered = module.lower(ctx)  # the op module contract (module docstring)
        return lowered
    if hasattr(module, "prepare"):
        return _prepared_unary(ctx, module, module_name)
    raise CodegenError(f"op module {module.__name__} has neither lower() nor prepare()")


def _is_default(value: object, default: object) -> bool:
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) == 0
    return value == default


def _check_options(ctx: OpContext, known: Collection[str] | None) -> None:
    """Refuse any option the op module does not know that is set to a non-default value, so
    a field added to the schema (or an unusual converter setting) is never silently dropped."""
    if known is None:
        return
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    options_class = getattr(schema, f"{ctx.op.options_type}T", None)
    defaults = vars(options_class()) if options_class is not None else {}
    for name, value in ctx.op.options.items():
        if name not in known and not _is_default(value, defaults.get(name)):
            raise ctx.fail(f"{value!r} is not supported (this op's known options: "
                           f"{', '.join(sorted(known)) or 'none'})", option=name)


def _prepared_unary(ctx: OpContext, module: ModuleType, module_name: str) -> Lowered:
    """Adapter for a module that only derives parameters (see the module docstring)."""
    ctx.expect_counts((1,))
    x, y = ctx.need_input(0), ctx.output()
    ctx.expect_activation_tensor(x)
    ctx.expect_type(y, "INT8")
    if tuple(x.shape) != tuple(y.shape):
        raise ctx.fail(f"input shape {list(x.shape)} differs from the output's", tensor=y)
    options = dict(ctx.op.options)
    accepted = inspect.signature(module.prepare).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        options = {k: v for k, v in options.items() if k in accepted}
    try:
        params = module.prepare(x.scale, x.zero_point, y.scale, y.zero_point, **options)
        if hasattr(module, "check_shape"):
            module.check_shape(tuple(x.shape))
    except (ValueError, DripTinyError) as exc:
        raise ctx.fail(str(exc)) from None
    function = getattr(module, "C_FUNCTION", f"dt_{module_name}_s8")
    if ctx.name == "SOFTMAX":
        depth = int(x.shape[-1]) if x.shape else 1
        shape_args = [str(size_of(x) // depth), str(depth)]
    else:
        shape_args = [str(size_of(x))]
    values: list[Value] = []
    for key, value in params.items():
        if isinstance(value, (list, tuple, np.ndarray)):
            values.append(CArray("int32_t", np.asarray(value, dtype=np.int64)))
        elif isinstance(value, float):
            values.append(float(value))
        else:
            values.append(int(value))
        del key
    return Lowered(function=function, header=f"{function}.h",
                   args=[In(0), *shape_args, *values, Out(0)])
