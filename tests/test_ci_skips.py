"""tests/conftest.py turns a skip into a failure in CI (env CI set): there every tool is
installed, so a skip means a missing package. Run in a pytester session with our conftest's
hooks, with and without CI."""

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

# The missing tool's name is in a variable, so the package-coverage scan
# (test_debian_packages.py) does not take it for a tool the suite uses.
USER_TESTS = """
import shutil
import pytest

TOOL = "no-such-tool-drip"

def test_needs_a_tool_that_is_missing():
    if shutil.which(TOOL) is None:
        pytest.skip("no-such-tool-drip is not installed")

@pytest.mark.skipif(True, reason="apt-get install something")
def test_skipped_by_a_marker():
    pass

@pytest.mark.may_skip_in_ci("needs a real nRF52840")
def test_allowed_to_skip():
    pytest.skip("no board")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_runs():
    assert True
"""

LOAD_OUR_HOOKS = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("drip_conftest", {str(CONFTEST)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
pytest_configure = module.pytest_configure
pytest_runtest_makereport = module.pytest_runtest_makereport
"""


def _run(pytester, monkeypatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(LOAD_OUR_HOOKS)
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")


def test_outside_ci_missing_tools_skip(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, None)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)


def test_in_ci_a_skip_fails_and_names_the_fix(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, "true")
    # A skip in the setup phase (a skipif marker) becomes an error, one in the test a failure.
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1, xfailed=1)
    assert result.ret != 0
    text = result.stdout.str()
    assert "skipped in CI (no-such-tool-drip is not installed)" in text
    assert "skipped in CI (apt-get install something)" in text
    assert "scripts/debian-packages.txt" in text
