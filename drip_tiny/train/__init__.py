"""Training: the `train` command's job (train_run.py), the check that a model can be
lowered before any time is spent on fit (precheck.py), Keras models (models/), fitting
(fit_model.py) and int8 quantization (quantize.py, quantize_modes.py).

May import drip, export, codegen, tflite, run and datasets; TensorFlow only through
drip_tiny.tf_seam, and only when a function needs it (the CLI loads quantize_modes
without TensorFlow).
"""
