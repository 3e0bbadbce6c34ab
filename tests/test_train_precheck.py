"""`drip-tiny train` lowers an untrained copy of the model before training: a model the
device cannot run is refused up front, naming the Keras layer and the TFLite op."""

import json

import numpy as np
import pytest
from conftest import train_cli

from drip_tiny.codegen import ops as codegen_ops
from drip_tiny.errors import ModelError, QuantizationError
from drip_tiny.tf_seam import keras
from drip_tiny.train import precheck
from drip_tiny.train.models import layer_origin

L = keras.layers
SUPPORTED = "Supported TFLite ops: " + ", ".join(codegen_ops.supported_ops())


@pytest.fixture
def fit_calls(monkeypatch):
    """Records every call of the float training; a refused model must make none."""
    from drip_tiny.train import fit_model as train
    calls = []
    real = train.fit_float

    def recording(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "fit_float", recording)
    return calls


def _digits_model(middle, name="user"):
    """A tiny 8x8 digits classifier with `middle` between the input and the target conv."""
    inputs = keras.Input((8, 8, 1))
    x = middle(inputs)
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_last")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, L.Dense(10, name="logits")(x), name=name)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("drip-tiny train: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_a_dilated_conv_is_refused_before_training(tmp_path, capsys, fit_calls):
    path = tmp_path / "dilated.keras"
    _digits_model(lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="same", name="wide")(x)) \
        .save(path)
    capsys.readouterr()
    out = tmp_path / "run"
    assert train_cli("--model", str(path), "--epochs", "1", "--out", str(out)) == 1
    line = _error_line(capsys)
    assert "Keras layer 'wide' (Conv2D, dilation_rate=(2, 2)) becomes TFLite SPACE_TO_BATCH_ND" \
        in line
    assert "SPACE_TO_BATCH_ND -> CONV_2D -> BATCH_TO_SPACE_ND" in line  # the codegen's reason
    assert "Instead: use dilation_rate=1" in line and SUPPORTED in line
    assert fit_calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dilated.keras"]  # no run, no staging


def test_a_head_int8_gradcam_cannot_read_is_refused_before_training(tmp_path, capsys, fit_calls):
    """Targeting the first convolution puts the second one in the Grad-CAM head: `fit` and
    `export` would refuse it, so `train` does before it trains."""
    out = tmp_path / "run"
    assert train_cli("--target-layer", "conv1", "--epochs", "1", "--out", str(out)) == 1
    line = _error_line(capsys)
    assert "Keras layer 'conv_last' (Conv2D, activation='relu') becomes TFLite CONV_2D in the " \
           "Grad-CAM head (between the target layer 'conv1' and the logits)" in line
    assert "--target-layer" in line and "this operator is not supported" in line
    assert fit_calls == [] and list(tmp_path.iterdir()) == []


LAYERS = {  # name: (middle of the model, the op or TF op named, words of the suggestion)
    "gelu": (lambda x: L.Activation("gelu", name="act")(L.Conv2D(4, 3, name="c0")(x)),
             "Keras layer 'act' (Activation, activation='gelu') becomes TFLite GELU",
             "activation 'relu' or 'relu6'"),
    "concatenate": (lambda x: L.Concatenate(name="cat")([L.Conv2D(4, 1, name="a")(x),
                                                         L.Conv2D(4, 1, name="b")(x)]),
                    "Keras layer 'cat' (Concatenate) becomes TFLite CONCATENATION",
                    "an Add layer"),
    "layer_norm": (lambda x: L.LayerNormalization(name="norm")(L.Conv2D(4, 1, name="c0")(x)),
                   "Keras layer 'norm' (LayerNormalization) becomes TFLite SHAPE",
                   "BatchNormalization"),
    "upsampling": (lambda x: L.UpSampling2D(name="up")(L.MaxPooling2D(name="pool")(x)),
                   "Keras layer 'up' (UpSampling2D) becomes TFLite RESIZE_NEAREST_NEIGHBOR",
                   "no supported op upsamples"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_an_unsupported_layer_is_named_with_its_op_and_a_replacement(name):
    middle, named, instead = LAYERS[name]
    x = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    with pytest.raises(ModelError) as info:
        precheck.check_lowers(_digits_model(middle), "conv_last", x, 10, (8, 8, 1), "ptq")
    message = str(info.value)
    assert named in message and SUPPORTED in message
    assert instead in message.split("Instead: ")[1].split(". ")[0]
    assert "nothing was trained or written" in message


def test_a_recurrent_layer_the_converter_refuses_is_named():
    """LSTM does not even convert (the converter fails on TensorListReserve); the layer is
    found in the traced TensorFlow graph."""
    inputs = keras.Input((4, 2))
    x = L.LSTM(4, return_sequences=True, name="memory")(inputs)
    x = L.Conv1D(4, 3, padding="same", activation="relu", name="conv_last")(x)
    x = L.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, L.Dense(3, name="logits")(x), name="recurrent")
    x = np.random.default_rng(0).random((8, 4, 2), dtype=np.float32)
    with pytest.raises(ModelError) as info:
        precheck.check_lowers(model, "conv_last", x, 3, (4, 2), "ptq")
    message = str(info.value)
    assert message.startswith("Keras layer 'memory' (LSTM) cannot be converted to a "
                              "full-integer int8 TFLite model")
    assert "TensorListReserve" in message and "Conv1D layers over the time axis" in message


def test_an_unsupported_option_is_named(monkeypatch):
    """An option the op module does not know (here: as if CONV_2D had no strides) names the
    op, the option and the layer."""
    from drip_tiny.codegen.ops import conv_2d
    from drip_tiny.train.models import build_builtin

    monkeypatch.setattr(conv_2d, "OPTIONS", conv_2d.OPTIONS - {"strideH"})
    x = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    with pytest.raises(ModelError) as info:
        precheck.check_lowers(build_builtin("cnn", (8, 8, 1), 10), "conv_last", x, 10,
                              (8, 8, 1), "ptq")
    message = str(info.value)
    assert message.startswith("Keras layer 'conv1' (Conv2D, activation='relu') becomes "
                              "TFLite CONV_2D (operator 0)")
    assert "refuses it here: option strideH: 1 is not supported" in message


def test_qat_is_refused_before_training_when_tfmot_cannot_wrap_a_layer():
    inputs = keras.Input((16, 1))
    x = L.Conv1D(4, 3, padding="same", activation="relu", name="conv_last")(inputs)
    x = L.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, L.Dense(3)(x))
    x = np.random.default_rng(0).random((8, 16, 1), dtype=np.float32)
    precheck.check_lowers(model, "conv_last", x, 3, (16, 1), "ptq")  # PTQ lowers it
    with pytest.raises(QuantizationError, match="Use --quantize ptq"):
        precheck.check_lowers(model, "conv_last", x, 3, (16, 1), "qat")


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_a_supported_user_model_trains(tmp_path, fit_calls):
    """Separable convolution, BatchNorm, a residual Add and Dropout all lower: the pre-check
    lets the model through and it trains (.h5 this time)."""
    inputs = keras.Input((8, 8, 1))
    x = L.SeparableConv2D(8, 3, padding="same", name="sep")(inputs)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(name="relu")(x)
    y = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_last")(x)
    x = L.Add(name="residual")([x, y])
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.1)(x)
    path = tmp_path / "user.h5"
    keras.Model(inputs, L.Dense(10, activation="softmax")(x)).save(path)
    out = tmp_path / "run"
    assert train_cli("--model", str(path), "--target-layer", "residual", "--epochs", "1",
                     "--out", str(out)) == 0
    assert len(fit_calls) == 1
    meta = json.loads((out / "metadata.json").read_text())
    assert {"DEPTHWISE_CONV_2D", "ADD"} <= set(meta["int8"]["ops"])
    assert meta["model"]["target_layer"] == "residual"
    assert "precheck_seconds" in json.loads((out / "metrics.json").read_text())


def test_layer_names_are_read_from_converted_tensor_names():
    inner = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(2, 3, name="deep")], name="block")
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, L.Dense(3, name="head")(inner(inputs)), name="outer")
    find = layer_origin.layer_for_names
    assert find(model, ["outer/block/deep/BiasAdd;outer/block/deep/Conv2D"]).name == "deep"
    assert find(model, ["StatefulPartitionedCall:0", "outer/head/MatMul"]).name == "head"
    assert find(model, ["StatefulPartitionedCall:0", "arith.constant"]) is None


def test_suggestions_never_name_a_supported_op():
    """The replacements are advice; the supported list is the codegen registry's."""
    assert not set(precheck.INSTEAD_OF_OP) & set(codegen_ops.supported_ops())
    assert precheck.supported_ops_text().startswith(SUPPORTED)
