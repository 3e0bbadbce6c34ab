"""Commands that do not train must not pay TensorFlow's start-up: the CLI, the run
directory, the .tflite reader and the TFLM reference import without it."""

import subprocess
import sys

NO_TF_MODULES = ["drip_tiny.cli", "drip_tiny.run.directory", "drip_tiny.tflite.flatbuffer",
                 "drip_tiny.tflite.int8_layout", "drip_tiny.tflite.tflm_reference", "drip_tiny.datasets",
                 "drip_tiny.run.splits", "drip_tiny.drip", "drip_tiny.drip.int8_gradcam",
                 "drip_tiny.drip.thresholds", "drip_tiny.drip.fit_run", "drip_tiny.drip.simulate_run",
                 "drip_tiny.codegen", "drip_tiny.codegen.ops.conv_2d",
                 "drip_tiny.codegen.ops.depthwise_conv_2d", "drip_tiny.codegen.ops.fully_connected",
                 "drip_tiny.codegen.ops.max_pool_2d", "drip_tiny.codegen.ops.average_pool_2d",
                 "drip_tiny.codegen.ops.mean", "drip_tiny.codegen.ops.add",
                 "drip_tiny.codegen.ops.reshape", "drip_tiny.codegen.ops.pad",
                 "drip_tiny.codegen.ops.quantize", "drip_tiny.codegen.ops.dequantize",
                 "drip_tiny.codegen.ops.relu", "drip_tiny.codegen.ops.softmax",
                 "drip_tiny.codegen.ops.logistic", "drip_tiny.drip.kernel_codegen",
                 "drip_tiny.drip.kernel_host",
                 "drip_tiny.codegen.emit", "drip_tiny.codegen.report", "drip_tiny.emulator",
                 "drip_tiny.emulator.model_bench", "drip_tiny.emulator.insn_count",
                 "drip_tiny.boards", "drip_tiny.link", "drip_tiny.emulator.launch",
                 "drip_tiny.hil.stream", "drip_tiny.emulator.images", "drip_tiny.export.app_model",
                 "drip_tiny.commands.hil_cmd", "drip_tiny.commands.emulate_cmd",
                 "drip_tiny.run.discovery", "drip_tiny.commands.run_argument",
                 "drip_tiny.hil.thresholds_update", "drip_tiny.commands.send_thresholds_cmd",
                 "drip_tiny.commands.device_argument", "drip_tiny.commands.pull_cmd"]


def test_non_training_modules_do_not_import_tensorflow():
    code = ("import sys\n"
            + "".join(f"import {m}\n" for m in NO_TF_MODULES)
            + "heavy = [m for m in ('tensorflow', 'tf_keras', 'keras') if m in sys.modules]\n"
            + "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_help_does_not_import_tensorflow():
    code = ("import sys\nfrom drip_tiny.cli import main\n"
            "try:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'tensorflow' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_int8_fit_and_simulate_run_without_tensorflow(digits_ptq_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(digits_ptq_run, run)
    code = ("import sys\nfrom drip_tiny.cli import main\n"
            f"assert main(['fit', {str(run)!r}, '--quiet']) == 0\n"
            f"assert main(['simulate', {str(run)!r}, '--quiet']) == 0\n"
            "heavy = [m for m in ('tensorflow', 'tf_keras', 'keras') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
