"""The exceptions drip-tiny raises. One root, so the CLI can turn every one into a message.

Each message names the problem and, where there is one, the fix.
"""


class DripTinyError(Exception):
    """Root of every error drip-tiny raises on purpose."""


class ConfigError(DripTinyError):
    """A command-line option, a name or a combination of options is not valid."""


class DatasetError(DripTinyError):
    """A dataset is missing, incomplete or not in the expected on-disk format."""


class ModelError(DripTinyError):
    """A Keras model cannot be used (no convolution, unknown layer, wrong output, ...)."""


class QuantizationError(DripTinyError):
    """Conversion to a full-integer int8 TFLite model failed or gave an unexpected model."""


class RunDirError(DripTinyError):
    """A run directory is missing, incomplete or would be overwritten."""


class CodegenError(DripTinyError):
    """A model cannot be turned into C (unsupported op, option or tensor type), or the
    generated C does not compile.

    When one operator is to blame, `op` (its TFLite name), `operator` (its index in the
    graph), `option` (the refused builtin option, if that is the problem) and `detail`
    (the reason, without the operator's location) say which, so callers such as `train`'s
    pre-check can name the Keras layer it came from."""

    def __init__(self, message: str, *, op: str | None = None, operator: int | None = None,
                 option: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.op = op
        self.operator = operator
        self.option = option
        self.detail = detail if detail is not None else message


class EmulatorError(DripTinyError):
    """An emulated-board run failed: the cross toolchain or QEMU is missing, the image does
    not build, or the emulated program ended with an unexpected status."""


class EmulatorTimeout(EmulatorError):
    """The emulated program did not finish within its time limit (QEMU was stopped)."""


class LinkError(DripTinyError):
    """The serial link to a device failed: no answer, a malformed or unexpected reply, or
    the port cannot be opened."""


class DeviceError(LinkError):
    """The device answered a request with an error status (docs/protocol.md)."""

    def __init__(self, status: int, name: str, message: str, command: str):
        super().__init__(f"{command}: the device answered {name} ({status}): "
                         f"{message or 'no message'}")
        self.status = status
        self.status_name = name
        self.device_message = message


class ExportError(DripTinyError):
    """A firmware project cannot be written or built for a board: the model does not fit
    its flash or RAM, the build failed, or the output folder would be overwritten."""


class FlashError(DripTinyError):
    """An image cannot be written to a board: no probe, no image, no flash tool, or the
    board has no flash method (it runs on this machine or under an emulator)."""
