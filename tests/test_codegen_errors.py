"""What the code generator refuses, and how it says so: the op, the option, the tensor."""

import codegen_models as cm
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from drip_tiny.codegen import HostModel, build, ops
from drip_tiny.errors import CodegenError, DripTinyError

Q = {"scale": 0.05, "zero_point": 0}


def _unary(op_name, options=None, out_dtype="INT8"):
    tensors = [{"name": "x", "shape": [1, 4], "dtype": "INT8", **Q},
               {"name": "y", "shape": [1, 4], "dtype": out_dtype, **Q}]
    return cm.flatbuffer(tensors, [(op_name, [0], [1], options)], [0], [1])


def test_an_unsupported_op_names_the_op_and_the_tensor():
    with pytest.raises(CodegenError, match=r"TANH \(operator 0, tensor 'y' \[1, 4\] INT8\).*"
                                           r"not supported.*supported: ADD"):
        build(_unary("TANH"))


def test_space_to_batch_says_why():
    tensors = [{"name": "x", "shape": [1, 4, 4, 1], "dtype": "INT8", **Q},
               {"name": "block", "shape": [2], "dtype": "INT32",
                "data": np.asarray([2, 2], np.int32)},
               {"name": "pads", "shape": [2, 2], "dtype": "INT32",
                "data": np.zeros((2, 2), np.int32)},
               {"name": "y", "shape": [4, 2, 2, 1], "dtype": "INT8", **Q}]
    data = cm.flatbuffer(tensors, [("SPACE_TO_BATCH_ND", [0, 1, 2], [3], None)], [0], [3])
    with pytest.raises(CodegenError, match=r"SPACE_TO_BATCH_ND \(operator 0.*dilated "
                                           r"convolution.*without dilation_rate"):
        build(data)


def test_an_unsupported_option_names_the_option():
    opts = schema.AddOptionsT()
    opts.fusedActivationFunction = schema.ActivationFunctionType.TANH
    tensors = [{"name": n, "shape": [1, 4], "dtype": "INT8", **Q} for n in "abc"]
    data = cm.flatbuffer(tensors, [("ADD", [0, 1], [2], opts)], [0, 1], [2])
    with pytest.raises(CodegenError, match=r"ADD \(operator 0, tensor 'c'.*option "
                                           r"fusedActivationFunction: fused activation TANH"):
        build(data)


def test_a_wrong_tensor_type_names_the_tensor():
    tensors = [{"name": "x", "shape": [1, 4], "dtype": "INT16", **Q},
               {"name": "y", "shape": [1, 4], "dtype": "INT8", **Q}]
    data = cm.flatbuffer(tensors, [("QUANTIZE", [0], [1], None)], [0], [1])
    with pytest.raises(CodegenError, match=r"graph input 'x' has type INT16"):
        build(data)


def test_a_shuffled_fully_connected_is_refused():
    opts = schema.FullyConnectedOptionsT()
    opts.weightsFormat = schema.FullyConnectedOptionsWeightsFormat.SHUFFLED4x16INT8
    tensors = [{"name": "x", "shape": [1, 16], "dtype": "INT8", **Q},
               {"name": "w", "shape": [4, 16], "dtype": "INT8", **Q,
                "data": np.ones((4, 16), np.int8)},
               {"name": "y", "shape": [1, 4], "dtype": "INT8", **Q}]
    data = cm.flatbuffer(tensors, [("FULLY_CONNECTED", [0, 1], [2], opts)], [0], [2])
    with pytest.raises(CodegenError, match="option weightsFormat"):
        build(data)


def test_an_op_whose_module_is_not_merged_yet(monkeypatch):
    monkeypatch.setitem(ops._MODULES, "TANH", "tanh_not_written")
    with pytest.raises(CodegenError, match=r"^TANH is not supported yet"):
        build(_unary("TANH"))


@pytest.mark.parametrize("op_name", ["SOFTMAX", "LOGISTIC"])
def test_softmax_and_logistic_are_registered(op_name):
    """Their kernels come from the kernels branch: until it is merged the error says so;
    after, the registry emits their call through the prepare() adapter."""
    options = schema.SoftmaxOptionsT() if op_name == "SOFTMAX" else None
    if options is not None:
        options.beta = 1.0
    data = cm.flatbuffer([{"name": "x", "shape": [1, 4], "dtype": "INT8", **Q},
                          {"name": "y", "shape": [1, 4], "dtype": "INT8",
                           "scale": 1 / 256, "zero_point": -128}],
                         [(op_name, [0], [1], options)], [0], [1])
    try:
        program = build(data)
    except CodegenError as exc:
        assert str(exc).startswith(f"{op_name} is not supported yet")
    else:
        assert program.steps[0].lowered.function


def test_prepare_adapter_emits_the_documented_call(monkeypatch):
    """A module with only prepare() (the kernels branch's form) plugs into the registry."""
    import sys
    import types

    module = types.ModuleType("drip_tiny.codegen.ops.fake_softmax")
    module.C_FUNCTION = "dt_softmax_s8"
    module.prepare = lambda input_scale, input_zero_point, output_scale, output_zero_point, \
        beta=1.0: {"input_multiplier": 1 << 30, "input_left_shift": 3, "diff_min": -248}
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(ops._MODULES, "SOFTMAX", "fake_softmax")
    opts = schema.SoftmaxOptionsT()
    opts.beta = 1.0
    tensors = [{"name": "x", "shape": [1, 3, 4], "dtype": "INT8", **Q},
               {"name": "y", "shape": [1, 3, 4], "dtype": "INT8", "scale": 1 / 256,
                "zero_point": -128}]
    program = build(cm.flatbuffer(tensors, [("SOFTMAX", [0], [1], opts)], [0], [1]))
    low = program.steps[0].lowered
    assert low.function == "dt_softmax_s8" and low.header == "dt_softmax_s8.h"
    # The kernels' own order: input, shape, prepare()'s values, output last.
    assert low.args[1:-1] == ["3", "4", 1 << 30, 3, -248]
    assert type(low.args[0]).__name__ == "In" and type(low.args[-1]).__name__ == "Out"


def test_not_a_flatbuffer():
    with pytest.raises(CodegenError, match="not a TFLite flatbuffer"):
        build(b"hello world, not a model")


def test_compiler_errors_become_codegen_errors(tmp_path, monkeypatch):
    from drip_tiny.codegen import emit

    render = emit.render

    def broken_render(program, out_dir):
        paths = render(program, out_dir)
        model_c = out_dir / "dt_model.c"
        model_c.write_text(model_c.read_text() + "\nstatic int unused_and_broken;\n")
        return paths

    monkeypatch.setattr(emit, "render", broken_render)
    with pytest.raises(CodegenError, match=r"(?s)compiling the generated model failed.*"
                                           r"unused_and_broken"):
        HostModel(_unary("QUANTIZE"), cache_dir=tmp_path)
    assert issubclass(CodegenError, DripTinyError)


def test_missing_compiler_is_named(tmp_path):
    with pytest.raises(CodegenError, match="no-such-cc"):
        HostModel(_unary("QUANTIZE"), cc="no-such-cc", cache_dir=tmp_path)


def test_keep_must_name_an_activation():
    tensors = [{"name": "x", "shape": [1, 4], "dtype": "INT8", **Q},
               {"name": "w", "shape": [2, 4], "dtype": "INT8", **Q,
                "data": np.ones((2, 4), np.int8)},
               {"name": "y", "shape": [1, 2], "dtype": "INT8", **Q}]
    data = cm.flatbuffer(tensors, [("FULLY_CONNECTED", [0, 1], [2], None)], [0], [2])
    with pytest.raises(CodegenError, match="'w' to keep is not an activation"):
        build(data, keep=["w"])
    with pytest.raises(CodegenError, match="index 7 to keep"):
        build(data, keep=[7])
    assert build(data, keep=["x", 0]).keep == (0,)


def _conv(**options):
    opts = schema.Conv2DOptionsT()
    opts.strideH = opts.strideW = opts.dilationHFactor = opts.dilationWFactor = 1
    opts.padding = schema.Padding.VALID
    for k, v in options.items():
        setattr(opts, k, v)
    tensors = [{"name": "x", "shape": [1, 3, 3, 1], "dtype": "INT8", **Q},
               {"name": "w", "shape": [2, 1, 1, 1], "dtype": "INT8", **Q,
                "data": np.ones((2, 1, 1, 1), np.int8)},
               {"name": "y", "shape": [1, 3, 3, 2], "dtype": "INT8", **Q}]
    return cm.flatbuffer(tensors, [("CONV_2D", [0, 1], [2], opts)], [0], [2])


def test_an_option_the_module_does_not_know_is_refused(monkeypatch):
    from drip_tiny.codegen.ops import conv_2d

    assert build(_conv(dilationHFactor=2)).steps[0].lowered.params["dilation_h"] == 2
    monkeypatch.setattr(conv_2d, "OPTIONS", conv_2d.OPTIONS - {"dilationHFactor"})
    with pytest.raises(CodegenError, match=r"CONV_2D .*option dilationHFactor: 2 is not "
                                           r"supported \(this op's known options"):
        build(_conv(dilationHFactor=2))
    build(_conv())  # at its default value the unknown option is harmless


def test_an_int64_bias_is_refused():
    with pytest.raises(CodegenError, match="option quantizedBiasType: bias type"):
        build(_conv(quantizedBiasType=schema.TensorType.INT64))
