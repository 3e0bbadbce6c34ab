"""Reference implementations the device is checked against (no TensorFlow needed)."""
