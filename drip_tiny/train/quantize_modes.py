"""Quantization mode names, importable without TensorFlow (the CLI validates with them)."""

PTQ = "ptq"
QAT = "qat"
QUANTIZE_MODES = (PTQ, QAT)
