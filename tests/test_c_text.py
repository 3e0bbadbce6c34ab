"""codegen/c_text.py: the one Jinja environment and the one C float literal."""

import jinja2
import pytest

from drip_tiny.codegen.c_text import c_float, c_int, templates
from drip_tiny.errors import CodegenError


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 3.5e38])
def test_a_float_without_a_float32_literal_is_refused(value):
    # 3.5e38 overflows float32 to infinity
    with pytest.raises(CodegenError, match="not finite"):
        c_float(value)


@pytest.mark.parametrize("value, text", [(1.0, "1.0f"), (0.0, "0.0f"), (-2.5, "-2.5f"),
                                         (1e-45, "1.40129846e-45f")])
def test_float_literals(value, text):
    assert c_float(value) == text


def test_int32_min_is_spelled_so_c_reads_an_int():
    assert c_int(-(1 << 31)) == "(-2147483647 - 1)"
    assert c_int(7) == "7"


def test_every_generator_shares_one_strict_environment():
    env = templates()
    assert env is templates()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
