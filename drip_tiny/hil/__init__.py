"""Hardware in the loop: what the host does with a run and a device.

- stream.py: stream a split, compute the expected answers with the Python reference, and
  compare them with the device's (`drip-tiny hil`);
- report.py, junit.py, plot.py: the JSON report and its terminal, Markdown, JUnit and PNG
  renderings;
- pull.py: read the kept samples back from the store (`drip-tiny pull`);
- thresholds_update.py: send a run's thresholds to a running device (`send-thresholds`);
- pytest_plugin.py: the `drip_device` fixture for users' own hardware tests.

May import link, emulator, drip, run and tflite. Never imports train or TensorFlow.
"""
