"""The names of the files in a run directory: the one place they are spelled.

docs/run-directory.md describes each file; drip_tiny/run/files.py holds the schemas of the
JSON ones.
"""

MODEL_TFLITE = "model.tflite"
FLOAT_MODEL = "float_model.keras"
METADATA = "metadata.json"
METRICS = "metrics.json"
HISTORY = "history.json"
SPLITS = "splits.npz"
THRESHOLDS = "thresholds.json"

# What `train` must have written for a folder to be a run.
REQUIRED_FILES = (MODEL_TFLITE, METADATA, METRICS, SPLITS)
