"""The run directory that `train` writes and every later command reads: the names of its
files (file_names.py), reading and writing it (directory.py), the schemas of its JSON files
(files.py), its split indices (splits.py), staging a new run beside the old one
(staging.py) and finding the run a command means when none is named (discovery.py).

May import datasets only. Never imports TensorFlow.
"""
