/*
 * insn_count: a QEMU TCG plugin that counts the guest instructions executed between two
 * marker functions, exactly.
 *
 *   qemu-system-arm ... -plugin insn_count.so,begin=0xADDR,end=0xADDR[,out=FILE]
 *                                             [,skip=0xADDR+BYTES ...][,boot=0xADDR]
 *
 * Each translated block gets one inline "add N" to a counter, N being its instructions
 * (per-block, not per-instruction: the per-instruction add made the emulated CPU about 4x
 * slower, enough to make a streamed hil run compute-bound). The first instruction of the
 * begin and of the end marker also gets a callback; it reads the counter, which already
 * holds the whole block, and takes off the instructions of the block from the marker on,
 * which the plugin knows from the translation. A region is [entry to begin, entry to
 * end): the begin marker's body, the code between the two calls and the call to the end
 * marker; the guest measures that constant overhead with an empty region and subtracts it.
 *
 * skip=ADDR+BYTES (any number of them) leaves the instructions in [ADDR, ADDR+BYTES) out
 * of every count: an interrupt handler that may run inside a region at any moment (the
 * serial receive interrupt while samples stream in) would otherwise make counts depend on
 * when bytes arrived. Skipped code must not call code that is counted.
 *
 * boot=ADDR (the reset handler) writes a line "boot" each time the guest (re)starts and
 * drops a region left open by the reset, so a host reading the file while the guest runs
 * can tell which regions came after a reboot.
 *
 * Begin and end may be entered any number of times, strictly alternating; each end
 * writes one line "region K COUNT" (K from 0) and flushes it, so a QEMU killed later still
 * leaves the finished regions behind. At exit: "total COUNT", and "error ..." lines for a
 * nested begin, an end without a begin, or a region still open.
 *
 * Exactness: TCG takes interrupts only between blocks, and a block's add runs after its
 * entry check, so a block that starts runs to its end unless one of its instructions
 * raises a synchronous exception (a fault, a semihosting call); such a block counts its
 * instructions after the exception too. Regions never contain one (a fault ends the run,
 * semihosting is called outside regions), so region counts are exact; "total" may exceed
 * the truth by the rest of the block that made the final semihosting call. Assumes one
 * vCPU (mps2-an386 has one) and no -icount (its I/O recompilation re-executes blocks).
 *
 * Debian ships no qemu-plugin.h, so the few declarations used are written out below; they
 * are the stable API of plugin version 1 (QEMU 4.2 to 8.x).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);

DT_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- counting ---- */

#define MAX_SKIPS 8

static uint64_t executed;      /* instructions of every block entered (inline add) */
static uint64_t begin_addr, end_addr, boot_addr;
static bool have_boot;
static uint64_t skip_start[MAX_SKIPS], skip_end[MAX_SKIPS];
static unsigned skips;
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

/* userdata: the counted instructions of the block from the marker on, already added. */
static uint64_t count_before(void *userdata)
{
    return executed - (uint64_t)(uintptr_t)userdata;
}

static void on_begin(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    if (in_region) {
        report_error("begin marker entered inside a region");
    }
    in_region = true;
    region_start = count_before(userdata);
}

static void on_end(unsigned int vcpu_index, void *userdata)
{
    uint64_t now = count_before(userdata);
    (void)vcpu_index;
    if (!in_region) {
        report_error("end marker entered outside a region");
        return;
    }
    in_region = false;
    fprintf(out, "region %u %" PRIu64 "\n", regions++, now - region_start);
    fflush(out);
}

static void on_boot(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    in_region = false; /* a reset inside a region ends it unreported */
    fprintf(out, "boot\n");
    fflush(out);
}

static bool skipped(uint64_t pc)
{
    for (unsigned i = 0; i < skips; i++) {
        if (pc >= skip_start[i] && pc < skip_end[i]) {
            return true;
        }
    }
    return false;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t counted = 0;
    (void)id;
    for (size_t i = 0; i < n; i++) {
        counted += !skipped(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i)));
    }
    if (counted > 0) {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                                 counted);
    }
    /* Walk from the block's end, so `from_here` is the counted instructions at i and
     * after: what the marker's callback takes off the counter. */
    uint64_t from_here = 0;
    for (size_t i = n; i-- > 0;) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        from_here += !skipped(pc);
        if (have_boot && pc == boot_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_boot, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (pc == begin_addr || pc == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, pc == begin_addr ? on_begin : on_end,
                                                   QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)from_here);
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

/* ADDRESS+BYTES, both 0x... or decimal. */
static bool parse_skip(const char *text)
{
    char *rest;
    unsigned long long start = strtoull(text, &rest, 0), bytes;
    if (rest == text || *rest != '+' || skips == MAX_SKIPS) {
        fprintf(stderr, "insn_count: skip=%s: expected skip=ADDRESS+BYTES, at most %d\n",
                text, MAX_SKIPS);
        return false;
    }
    text = rest + 1;
    bytes = strtoull(text, &rest, 0);
    if (rest == text || *rest != '\0' || bytes == 0) {
        fprintf(stderr, "insn_count: skip=...+%s: expected a size in bytes above 0\n", text);
        return false;
    }
    skip_start[skips] = (uint64_t)start & ~(uint64_t)1; /* a Thumb symbol's bit 0 */
    skip_end[skips] = skip_start[skips] + (uint64_t)bytes;
    skips++;
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
        } else if (strncmp(arg, "boot=", 5) == 0) {
            have_boot = parse_address(arg + 5, &boot_addr);
            if (!have_boot) {
                fprintf(stderr, "insn_count: boot=%s is not an address\n", arg + 5);
                return -1;
            }
        } else if (strncmp(arg, "skip=", 5) == 0) {
            if (!parse_skip(arg + 5)) {
                return -1;
            }
        } else {
            fprintf(stderr, "insn_count: unknown argument '%s' (expected begin=, end=, out=, skip=, boot=)\n",
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
