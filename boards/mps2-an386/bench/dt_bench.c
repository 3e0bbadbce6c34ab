#include "dt_bench.h"

/*
 * Out of line and opaque to the optimizer (noipa), so every call stays where it is written
 * and the two functions keep distinct addresses (different bodies, so identical-code
 * folding cannot merge them). The memory clobber keeps stores from crossing a marker.
 */
__attribute__((noinline, noipa)) void dt_bench_begin(void)
{
    __asm__ volatile("@ dt_bench_begin" ::: "memory");
}

__attribute__((noinline, noipa)) void dt_bench_end(void)
{
    __asm__ volatile("@ dt_bench_end\n\tnop" ::: "memory");
}

volatile int dt_bench_profiling;

void dt_bench_after_op(int op)
{
    (void)op;
    if (dt_bench_profiling) {
        dt_bench_end();
        dt_bench_begin();
    }
}
