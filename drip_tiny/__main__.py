from drip_tiny.cli import entrypoint

entrypoint()
