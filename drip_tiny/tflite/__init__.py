"""The int8 .tflite file: reading the flatbuffer (flatbuffer.py), what an int8 model must
look like for the device (int8_layout.py), and TFLM's own interpreter as the bit-exact
reference (tflm_reference.py, through the tflite_micro package).

Imports nothing else of drip_tiny but errors and native_stderr. Never imports TensorFlow.
"""
