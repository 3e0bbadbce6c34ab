"""AVERAGE_POOL_2D int8: the window is clipped to the input and the count follows it
(TFLM's reference kernel), rounding half away from zero."""

from drip_tiny.codegen.ops._pool_common import lower_pool
from drip_tiny.codegen.ops.base import Lowered, OpContext

OPS = ("AVERAGE_POOL_2D",)
OPTIONS = {"padding", "strideW", "strideH", "filterWidth", "filterHeight",
           "fusedActivationFunction"}


def lower(ctx: OpContext) -> Lowered:
    return lower_pool(ctx, "avg")
