/*
 * insn_count: a QEMU TCG plugin that counts the guest instructions executed between two
 * marker functions, exactly.
 *
 *   qemu-system-arm ... -plugin insn_count.so,begin=0xADDR,end=0xADDR[,out=FILE]
 *
 * Every executed instruction adds one to a counter (an inline add, attached to each
 * instruction when its block is translated). The first instruction of the begin marker
 * and the first instruction of the end marker also get a callback that reads the counter.
 * A region is [entry to begin, entry to end): it counts the begin marker's body, the code
 * between the two calls and the call instruction to the end marker; the guest measures
 * that constant overhead with an empty region and subtracts it.
 *
 * Begin and end may be entered any number of times, strictly alternating; each end
 * writes one line "region K COUNT" (K from 0) and flushes it, so a QEMU killed later still
 * leaves the finished regions behind. At exit: "total COUNT", and "error ..." lines for a
 * nested begin, an end without a begin, or a region still open.
 *
 * Exactness: the inline add and the marker callback on the same instruction always run in
 * the same order, so whichever order QEMU picks, end - begin counts each instruction of
 * the region once. An exception or a semihosting call ends a block early, but each counted
 * instruction's add has already run by then. Assumes one vCPU (mps2-an386 has one) and no
 * -icount (its I/O recompilation may re-execute instructions).
 *
 * Debian ships no qemu-plugin.h, so the few declarations used are written out below; they
 * are the stable API of plugin version 1 (QEMU 4.2 to 8.x).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the part of QEMU's plugin API this file uses ---- */

#define DT_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    /* a union of per-mode details follows in QEMU; not read here */
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);

DT_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- counting ---- */

static uint64_t executed;      /* instructions executed since start (inline add) */
static uint64_t begin_addr, end_addr;
static uint64_t region_start;
static bool in_region;
static unsigned regions, errors;
static FILE *out;

static void report_error(const char *what)
{
    fprintf(out, "error %s\n", what);
    fflush(out);
    errors++;
}

static void on_begin(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    if (in_region) {
        report_error("begin marker entered inside a region");
    }
    in_region = true;
    region_start = executed;
}

static void on_end(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    if (!in_region) {
        report_error("end marker entered outside a region");
        return;
    }
    in_region = false;
    fprintf(out, "region %u %" PRIu64 "\n", regions++, executed - region_start);
    fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &executed, 1);
        if (pc == begin_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (pc == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    if (in_region) {
        report_error("a region was still open at exit");
    }
    fprintf(out, "total %" PRIu64 "\n", executed);
    fflush(out);
    if (out != stderr) {
        fclose(out);
    }
}

static bool parse_address(const char *text, uint64_t *value)
{
    char *rest;
    unsigned long long v = strtoull(text, &rest, 0);
    if (*text == '\0' || *rest != '\0') {
        return false;
    }
    *value = (uint64_t)v & ~(uint64_t)1; /* a Thumb symbol's bit 0 is not part of the pc */
    return true;
}

DT_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                         int argc, char **argv)
{
    bool have_begin = false, have_end = false;
    const char *out_path = NULL;
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "begin=", 6) == 0) {
            have_begin = parse_address(arg + 6, &begin_addr);
        } else if (strncmp(arg, "end=", 4) == 0) {
            have_end = parse_address(arg + 4, &end_addr);
        } else if (strncmp(arg, "out=", 4) == 0) {
            out_path = arg + 4;
        } else {
            fprintf(stderr, "insn_count: unknown argument '%s' (expected begin=, end=, out=)\n",
                    arg);
            return -1;
        }
    }
    if (!have_begin || !have_end || begin_addr == end_addr) {
        fprintf(stderr, "insn_count: needs begin=ADDRESS and end=ADDRESS, two different "
                        "addresses (0x... or decimal)\n");
        return -1;
    }
    out = stderr;
    if (out_path != NULL) {
        out = fopen(out_path, "w");
        if (out == NULL) {
            fprintf(stderr, "insn_count: cannot write '%s'\n", out_path);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
