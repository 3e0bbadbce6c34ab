/*
 * Instruction-count markers. Under QEMU with the insn_count plugin (begin=address of
 * dt_bench_begin, end=address of dt_bench_end), every dt_bench_begin() ... dt_bench_end()
 * pair is one region whose executed instructions are counted exactly; regions are numbered
 * in the order they end and must not nest.
 *
 * A region's count includes a small constant overhead (the begin marker's body, the call to
 * the end marker): measure an empty region, dt_bench_begin(); dt_bench_end();, and subtract
 * its count.
 */
#ifndef DT_BENCH_H
#define DT_BENCH_H

#ifdef __cplusplus
extern "C" {
#endif

void dt_bench_begin(void);
void dt_bench_end(void);

/* Per-operator regions: build the model with -D'DT_MODEL_AFTER_OP(op)=dt_bench_after_op(op)'
 * and -include dt_bench.h. While dt_bench_profiling is set (the benchmark main sets it
 * around the counted inference), each call ends the current region and begins the next,
 * so every operator with code gets its own region. */
extern volatile int dt_bench_profiling;
void dt_bench_after_op(int op);

#ifdef __cplusplus
}
#endif

#endif /* DT_BENCH_H */
