"""Hardware-in-the-loop reporting: the JSON report of a stream (report.py), its terminal,
Markdown, PNG and JUnit renderings, and the pytest plugin (pytest_plugin.py)."""
