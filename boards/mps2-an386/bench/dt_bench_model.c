/*
 * Benchmark main for a generated model (dt_model.h), measured the way TFLM's figures in
 * the project's anchors were: input x[i] = (int8)((i*37+11) & 0xFF), one warm-up
 * inference, then the second inference counted.
 *
 * Regions (see dt_bench.h), in order:
 *   0  empty: the markers' own overhead, to subtract from the others
 *   1  dt_model_invoke(), the second inference (with per-operator regions, see dt_bench.h:
 *      one region per operator with code, then one for the return; the rest shift)
 *   2  dt_bench_extra(), right after it: the arena and the kept tensors still hold the
 *      second inference's tensors. Weak and empty here; link a definition to measure one.
 * Then every output is written to the semihosting console as "output K <hex bytes>",
 * dt_bench_report() (weak, empty here) may print more, and main returns 0, or the failing invoke's status (warm-up: 100 + status).
 *
 * Peak stack: before anything runs, main fills the unused stack with a pattern; after
 * the inferences and dt_bench_extra it finds the deepest word overwritten and prints
 * "stack BYTES" (from the top of RAM, so start-up and main's own frame count too).
 */
#include <stdint.h>

#include "dt_bench.h"
#include "dt_model.h"
#include "semihosting.h"

__attribute__((weak)) void dt_bench_extra(void)
{
}

/* After the outputs: a weak hook that prints what dt_bench_extra computed, outside every
 * counted region. */
__attribute__((weak)) void dt_bench_report(void)
{
}

/* The stack region of link.ld: [__heap_limit, _estack), growing down from _estack. */
extern uint32_t __heap_limit[];
extern uint32_t _estack[];
#define STACK_PATTERN 0xA5A5A5A5u

/* Below main's frame only: the words above are in use. */
static __attribute__((noinline)) void paint_stack(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *limit = (uint32_t *)(sp - 256u); /* clear of this frame and its caller's */
    for (uint32_t *p = __heap_limit; p < limit; p++) {
        *(volatile uint32_t *)p = STACK_PATTERN;
    }
}

static uint32_t stack_peak_bytes(void)
{
    const uint32_t *p = __heap_limit;
    while (p < _estack && *p == STACK_PATTERN) {
        p++;
    }
    return (uint32_t)((uintptr_t)_estack - (uintptr_t)p);
}

static void print_stack_peak(void)
{
    char line[32] = "stack ";
    char digits[12];
    uint32_t v = stack_peak_bytes(), n = 6, d = 0;
    do {
        digits[d++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (d > 0u) {
        line[n++] = digits[--d];
    }
    line[n++] = '\n';
    dt_semihost_write(line, n);
}

static void write_input(void)
{
    int8_t *x = (int8_t *)dt_model_input(0);
    for (uint32_t i = 0; i < DT_MODEL_INPUT0_BYTES; i++) {
        x[i] = (int8_t)(uint8_t)((i * 37u + 11u) & 0xFFu);
    }
}

#if DT_MODEL_OUTPUT_COUNT > 4
#error "dt_bench_model.c prints at most 4 outputs"
#endif
static const uint32_t output_bytes[] = {
#if DT_MODEL_OUTPUT_COUNT > 0
    DT_MODEL_OUTPUT0_BYTES,
#endif
#if DT_MODEL_OUTPUT_COUNT > 1
    DT_MODEL_OUTPUT1_BYTES,
#endif
#if DT_MODEL_OUTPUT_COUNT > 2
    DT_MODEL_OUTPUT2_BYTES,
#endif
#if DT_MODEL_OUTPUT_COUNT > 3
    DT_MODEL_OUTPUT3_BYTES,
#endif
};

static void print_outputs(void)
{
    static const char hex[] = "0123456789abcdef";
    char line[80];
    for (int k = 0; k < DT_MODEL_OUTPUT_COUNT; k++) {
        const uint8_t *y = (const uint8_t *)dt_model_output(k);
        uint32_t n = 0;
        for (const char *p = "output "; *p != '\0'; p++) {
            line[n++] = *p;
        }
        line[n++] = (char)('0' + k);
        line[n++] = ' ';
        for (uint32_t i = 0; i < output_bytes[k]; i++) {
            line[n++] = hex[y[i] >> 4];
            line[n++] = hex[y[i] & 0xFu];
            if (n >= sizeof line - 3) {
                dt_semihost_write(line, n);
                n = 0;
            }
        }
        line[n++] = '\n';
        dt_semihost_write(line, n);
    }
}

int main(void)
{
    paint_stack();
    write_input();
    int status = dt_model_invoke();
    if (status != 0) {
        return 100 + status;
    }
    /* Inputs may share arena bytes with intermediate tensors: write the input again. */
    write_input();

    dt_bench_begin();
    dt_bench_end();

    dt_bench_profiling = 1; /* per-operator regions, when the model was built for them */
    dt_bench_begin();
    status = dt_model_invoke();
    dt_bench_end();
    dt_bench_profiling = 0;

    dt_bench_begin();
    dt_bench_extra();
    dt_bench_end();

    print_stack_peak();
    print_outputs();
    dt_bench_report();
    return status;
}
