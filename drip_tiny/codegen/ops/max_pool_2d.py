"""MAX_POOL_2D int8 (TFLM's PoolingPrepare: input and output quantization must be equal)."""

from drip_tiny.codegen.ops._pool_common import lower_pool
from drip_tiny.codegen.ops.base import Lowered, OpContext

OPS = ("MAX_POOL_2D",)
OPTIONS = {"padding", "strideW", "strideH", "filterWidth", "filterHeight",
           "fusedActivationFunction"}


def lower(ctx: OpContext) -> Lowered:
    return lower_pool(ctx, "max")
