/*
 * Host test driver for firmware/store: one scenario per command line, run by
 * tests/test_store.py under ASan/UBSan. Prints "PASS <name> [facts]" and exits 0, or
 * prints the failed check and exits 1.
 *
 *   store_driver <scenario>
 *   store_driver reboot-write FILE | reboot-check FILE   (two processes = a real reboot)
 *   store_driver span-write FILE   (records spanning pages, for the Python reader)
 *   store_driver capacity PAGE_SIZE PAGES LEN   (samples an empty store takes)
 *
 * Built with -DDT_STORE_ON_TARGET for the emulated mps2-an386 board, it runs every
 * scenario but the file-backed ones and reports through semihosting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_flash_sim.h"
#include "dt_store.h"

#ifdef DT_STORE_ON_TARGET
/* The emulated board has no files or stdio: report through semihosting instead. */
#include "semihosting.h"
static char g_line[200];
#define printf(...) (snprintf(g_line, sizeof(g_line), __VA_ARGS__), dt_semihost_write0(g_line))
#define fprintf(stream, ...) printf(__VA_ARGS__)
#define exit(status) dt_semihost_exit(status)
#endif

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)
#define CHECK_EQ(a, b)                                                                \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",        \
                    __FILE__, __LINE__, #a, #b, a_, b_);                              \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define MAX_FLASH (64u * 1024u)
/* docs/storage-format.md: page header and record header bytes. */
#define PAGE_HDR 28u
#define REC_HDR 24u
static uint8_t g_mem[MAX_FLASH];
static dt_flash_sim_t g_sim;
static dt_store_t g_store;

/// The samples: content is a pure function of the sample number k (id k + 1) ///

static uint32_t sample_len(uint32_t k, uint32_t maxlen)
{
    return (k * 37u + 5u) % (maxlen + 1u);
}

static void sample_fill(uint32_t k, uint8_t *buf, uint32_t len)
{
    uint32_t i, x = k * 2654435761u + 1u;
    for (i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
}

static dt_sample_meta_t sample_meta(uint32_t k)
{
    dt_sample_meta_t m;
    memset(&m, 0, sizeof(m));
    m.predicted_class = (int32_t)(k % 10u) - 3;
    m.drips = 0.25f * (float)k - 1.5f;
    return m;
}

static int append_k(uint32_t k, uint32_t maxlen, uint32_t *id)
{
    uint8_t buf[4096];
    uint32_t len = sample_len(k, maxlen);
    dt_sample_meta_t m = sample_meta(k);
    sample_fill(k, buf, len);
    return dt_store_append(&g_store, &m, buf, len, id);
}

/* The record at index must be sample k (id k + 1), byte for byte. */
static void check_index_is(uint32_t index, uint32_t k, uint32_t maxlen)
{
    uint8_t want[4096], got[4096];
    uint32_t len = sample_len(k, maxlen), got_len = 12345;
    dt_sample_meta_t m, want_m = sample_meta(k);
    sample_fill(k, want, len);
    memset(got, 0xA5, sizeof(got));
    CHECK_EQ(dt_store_read(&g_store, index, &m, got, sizeof(got), &got_len), DT_STORE_OK);
    CHECK_EQ(got_len, len);
    CHECK_EQ(m.length, len);
    CHECK_EQ(m.id, k + 1u);
    CHECK_EQ(m.predicted_class, want_m.predicted_class);
    CHECK(memcmp(&m.drips, &want_m.drips, 4) == 0);
    CHECK(memcmp(got, want, len) == 0);
    /* and by id */
    memset(got, 0xA5, sizeof(got));
    CHECK_EQ(dt_store_read_id(&g_store, k + 1u, &m, got, sizeof(got), &got_len), DT_STORE_OK);
    CHECK_EQ(m.id, k + 1u);
    CHECK(memcmp(got, want, len) == 0);
}

static void fresh(uint32_t page_size, uint32_t pages, dt_store_full_policy_t policy)
{
    CHECK_EQ(dt_flash_sim_init(&g_sim, g_mem, page_size, pages), DT_STORE_OK);
    CHECK_EQ(dt_store_open(&g_store, &g_sim.flash, policy), DT_STORE_OK);
}

static void reopen(dt_store_full_policy_t policy)
{
    dt_flash_sim_power_on(&g_sim);
    memset(&g_store, 0xCC, sizeof(g_store)); /* nothing survives in RAM */
    CHECK_EQ(dt_store_open(&g_store, &g_sim.flash, policy), DT_STORE_OK);
}

/// Scenarios ///

static void t_crc(void)
{
    CHECK_EQ(dt_store_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ(dt_store_crc32(dt_store_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    CHECK_EQ(dt_store_crc32(0, "", 0), 0);
    printf("PASS crc\n");
}

static void t_append_read(void)
{
    uint32_t k, id, maxlen;
    uint8_t big[4096];
    dt_sample_meta_t m = sample_meta(0);
    fresh(1024, 4, DT_STORE_FULL_STOP);
    /* A record may span pages, and always fits in page_count - 1 of them. */
    CHECK_EQ(dt_store_max_sample(&g_store), 3 * (1024 - 28) - 24);
    maxlen = 900; /* the largest one that fits after the small ones: see t_span */
    CHECK_EQ(dt_store_count(&g_store), 0);
    CHECK_EQ(dt_store_next_id(&g_store), 1);
    CHECK_EQ(dt_store_capacity_bytes(&g_store), 4 * 996);
    CHECK_EQ(dt_store_free_bytes(&g_store), 4 * 996);
    CHECK_EQ(dt_store_read(&g_store, 0, NULL, big, sizeof(big), NULL), DT_STORE_ERR_NOT_FOUND);
    for (k = 0; k < 12; k++) {
        CHECK_EQ(append_k(k, 200, &id), DT_STORE_OK);
        CHECK_EQ(id, k + 1);
        CHECK_EQ(dt_store_count(&g_store), k + 1);
    }
    for (k = 0; k < 12; k++) {
        check_index_is(k, k, 200);
    }
    /* Empty and largest payloads. */
    CHECK_EQ(dt_store_append(&g_store, &m, NULL, 0, &id), DT_STORE_OK);
    CHECK_EQ(id, 13);
    sample_fill(99, big, maxlen);
    CHECK_EQ(dt_store_append(&g_store, &m, big, maxlen, &id), DT_STORE_OK);
    CHECK_EQ(id, 14);
    CHECK_EQ(dt_store_append(&g_store, &m, big, dt_store_max_sample(&g_store) + 1, &id),
             DT_STORE_ERR_TOO_BIG);
    {
        uint8_t got[4096];
        uint32_t n;
        CHECK_EQ(dt_store_read_id(&g_store, 13, NULL, NULL, 0, &n), DT_STORE_OK);
        CHECK_EQ(n, 0);
        CHECK_EQ(dt_store_read_id(&g_store, 14, NULL, got, 10, &n), DT_STORE_ERR_TOO_BIG);
        CHECK_EQ(n, maxlen);
        CHECK_EQ(dt_store_read(&g_store, 13, NULL, got, sizeof(got), &n), DT_STORE_OK);
        CHECK(memcmp(got, big, maxlen) == 0);
        CHECK_EQ(dt_store_read_id(&g_store, 15, NULL, got, sizeof(got), &n),
                 DT_STORE_ERR_NOT_FOUND);
        CHECK_EQ(dt_store_read(&g_store, 14, NULL, got, sizeof(got), &n),
                 DT_STORE_ERR_NOT_FOUND);
    }
    CHECK_EQ(dt_store_append(&g_store, NULL, big, 4, &id), DT_STORE_ERR_ARG);
    CHECK_EQ(dt_store_append(&g_store, &m, NULL, 4, &id), DT_STORE_ERR_ARG);
    /* Unaligned source buffer. */
    CHECK_EQ(dt_store_append(&g_store, &m, big + 1, 7, &id), DT_STORE_OK);
    {
        uint8_t got[16];
        CHECK_EQ(dt_store_read_id(&g_store, id, NULL, got, sizeof(got), NULL), DT_STORE_OK);
        CHECK(memcmp(got, big + 1, 7) == 0);
    }
    /* Same view after a reboot. */
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 15);
    CHECK_EQ(dt_store_next_id(&g_store), 16);
    for (k = 0; k < 12; k++) {
        check_index_is(k, k, 200);
    }
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS append-read\n");
}

static void t_open_args(void)
{
    dt_flash_sim_t s;
    CHECK_EQ(dt_flash_sim_init(&s, g_mem, 1024, 1), DT_STORE_OK);
    CHECK_EQ(dt_store_open(&g_store, &s.flash, DT_STORE_FULL_STOP), DT_STORE_ERR_ARG);
    CHECK_EQ(dt_flash_sim_init(&s, g_mem, 256, DT_STORE_MAX_PAGES + 1), DT_STORE_OK);
    CHECK_EQ(dt_store_open(&g_store, &s.flash, DT_STORE_FULL_STOP), DT_STORE_ERR_ARG);
    CHECK_EQ(dt_flash_sim_init(&s, g_mem, 1024, 2), DT_STORE_OK);
    CHECK_EQ(dt_store_open(&g_store, &s.flash, (dt_store_full_policy_t)7), DT_STORE_ERR_ARG);
    CHECK_EQ(dt_store_open(NULL, &s.flash, DT_STORE_FULL_STOP), DT_STORE_ERR_ARG);
    /* A store of another format version is refused, not erased. */
    fresh(256, 4, DT_STORE_FULL_STOP);
    CHECK_EQ(append_k(0, 40, NULL), DT_STORE_OK);
    {
        uint32_t h[4];
        uint8_t before[1024];
        memcpy(h, g_mem, 16);
        h[1] = 1; /* format version 1: records never spanned pages */
        memset(g_mem, 0xFF, 20);
        memcpy(g_mem, h, 16);
        h[0] = dt_store_crc32(0, h, 16);
        memcpy(g_mem + 16, &h[0], 4);
        memcpy(before, g_mem, sizeof(before));
        CHECK_EQ(dt_store_open(&g_store, &g_sim.flash, DT_STORE_FULL_STOP),
                 DT_STORE_ERR_VERSION);
        CHECK(memcmp(before, g_mem, sizeof(before)) == 0);
    }
    printf("PASS open-args\n");
}

static void t_erase_all(void)
{
    uint32_t k, id;
    fresh(256, 4, DT_STORE_FULL_STOP);
    for (k = 0; k < 10; k++) {
        CHECK_EQ(append_k(k, 60, &id), DT_STORE_OK);
    }
    CHECK_EQ(dt_store_erase_all(&g_store), DT_STORE_OK);
    CHECK_EQ(dt_store_count(&g_store), 0);
    CHECK_EQ(dt_store_next_id(&g_store), 11);
    CHECK_EQ(dt_store_read(&g_store, 0, NULL, NULL, 0, NULL), DT_STORE_ERR_NOT_FOUND);
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 0);
    CHECK_EQ(dt_store_next_id(&g_store), 11); /* ids never go back */
    CHECK_EQ(dt_store_free_bytes(&g_store), dt_store_capacity_bytes(&g_store) - 0);
    for (k = 10; k < 14; k++) {
        CHECK_EQ(append_k(k, 60, &id), DT_STORE_OK);
        CHECK_EQ(id, k + 1);
    }
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 4);
    for (k = 10; k < 14; k++) {
        check_index_is(k - 10, k, 60);
    }
    /* erase_all of a full store with the STOP policy still works */
    for (k = 14;; k++) {
        int err = append_k(k, 60, &id);
        if (err == DT_STORE_ERR_FULL) {
            break;
        }
        CHECK_EQ(err, DT_STORE_OK);
    }
    CHECK_EQ(dt_store_erase_all(&g_store), DT_STORE_OK);
    CHECK_EQ(dt_store_count(&g_store), 0);
    CHECK_EQ(append_k(k, 60, &id), DT_STORE_OK);
    CHECK_EQ(id, k + 1);
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS erase-all\n");
}

static void t_full_stop(void)
{
    uint32_t k, id, n, free_before;
    uint8_t before[4 * 256];
    fresh(256, 4, DT_STORE_FULL_STOP);
    for (k = 0;; k++) {
        int err = append_k(k, 60, &id);
        if (err == DT_STORE_ERR_FULL) {
            break;
        }
        CHECK_EQ(err, DT_STORE_OK);
        CHECK_EQ(id, k + 1);
    }
    n = k;
    CHECK(n >= 8);
    CHECK_EQ(dt_store_count(&g_store), n);
    free_before = dt_store_free_bytes(&g_store);
    CHECK(free_before < 24 + ((sample_len(n, 60) + 3) & ~3u));
    /* Nothing is written by a refused append; the next one is refused the same way. */
    memcpy(before, g_mem, sizeof(before));
    CHECK_EQ(append_k(n, 60, &id), DT_STORE_ERR_FULL);
    CHECK(memcmp(before, g_mem, sizeof(before)) == 0);
    CHECK_EQ(dt_store_next_id(&g_store), n + 1);
    for (k = 0; k < n; k++) {
        check_index_is(k, k, 60);
    }
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), n);
    CHECK_EQ(append_k(n, 60, &id), DT_STORE_ERR_FULL);
    for (k = 0; k < n; k++) {
        check_index_is(k, k, 60);
    }
    /* A small sample that still fits is accepted. */
    if (free_before >= 24) {
        dt_sample_meta_t m = sample_meta(0);
        CHECK_EQ(dt_store_append(&g_store, &m, NULL, 0, &id), DT_STORE_OK);
    }
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS full-stop samples=%u\n", (unsigned)n);
}

static void t_full_overwrite(void)
{
    uint32_t k, id, i, count, first;
    fresh(256, 4, DT_STORE_FULL_OVERWRITE_OLDEST);
    for (k = 0; k < 100; k++) {
        uint32_t before = dt_store_count(&g_store);
        CHECK_EQ(append_k(k, 60, &id), DT_STORE_OK);
        CHECK_EQ(id, k + 1);
        count = dt_store_count(&g_store);
        /* Either one more, or a whole page (>= 1 sample) went and this one came. */
        CHECK(count == before + 1 || count <= before);
        /* The store always holds the newest samples, contiguous, ending with this one. */
        first = k + 1 - count;
        for (i = 0; i < count; i++) {
            dt_sample_meta_t m;
            uint8_t buf[256];
            CHECK_EQ(dt_store_read(&g_store, i, &m, buf, sizeof(buf), NULL), DT_STORE_OK);
            CHECK_EQ(m.id, first + i + 1);
        }
        /* At least 3 of the 4 pages are in use once it wrapped. */
        if (k > 40) {
            CHECK(count >= 6);
        }
    }
    count = dt_store_count(&g_store);
    first = 100 - count;
    for (i = 0; i < count; i++) {
        check_index_is(i, first + i, 60);
    }
    CHECK_EQ(dt_store_read_id(&g_store, first, NULL, NULL, 0, NULL), DT_STORE_ERR_NOT_FOUND);
    reopen(DT_STORE_FULL_OVERWRITE_OLDEST);
    CHECK_EQ(dt_store_count(&g_store), count);
    for (i = 0; i < count; i++) {
        check_index_is(i, first + i, 60);
    }
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS full-overwrite kept=%u of 100\n", (unsigned)count);
}

static void t_nor_rules(void)
{
    uint32_t w = 0x12345678u, z = 0, ones = 0xFFFFFFFFu, v;
    uint8_t before[512];
    const dt_flash_t *f;
    fresh(256, 2, DT_STORE_FULL_STOP);
    f = &g_sim.flash;
    CHECK_EQ(f->program_words(f, 8, &w, 1), DT_STORE_OK);
    memcpy(before, g_mem, sizeof(before));
    CHECK_EQ(f->program_words(f, 8, &z, 1), DT_STORE_ERR_NOR);    /* twice, 1->0 only */
    CHECK_EQ(f->program_words(f, 8, &ones, 1), DT_STORE_ERR_NOR); /* 0->1 */
    CHECK_EQ(f->program_words(f, 8, &w, 1), DT_STORE_ERR_NOR);    /* same value again */
    CHECK_EQ(f->program_words(f, 6, &z, 1), DT_STORE_ERR_ARG);    /* misaligned */
    CHECK_EQ(f->program_words(f, 512, &z, 1), DT_STORE_ERR_ARG);  /* out of range */
    CHECK_EQ(f->erase_page(f, 2), DT_STORE_ERR_ARG);
    {
        /* A call that would break the rule part way changes nothing at all. */
        uint32_t two[2] = {0, 0};
        CHECK_EQ(f->program_words(f, 4, two, 2), DT_STORE_ERR_NOR);
    }
    CHECK(memcmp(before, g_mem, sizeof(before)) == 0);
    CHECK_EQ(g_sim.violations, 7);
    CHECK_EQ(f->read(f, 8, &v, 4), DT_STORE_OK);
    CHECK_EQ(v, 0x12345678u);
    CHECK_EQ(f->erase_page(f, 0), DT_STORE_OK);
    CHECK_EQ(f->program_words(f, 8, &z, 1), DT_STORE_OK);
    CHECK_EQ(f->read(f, 8, &v, 4), DT_STORE_OK);
    CHECK_EQ(v, 0);
    /* Power cut: the cut op and every later one fail, contents freeze. */
    CHECK_EQ(f->erase_page(f, 0), DT_STORE_OK);
    dt_flash_sim_cut_at(&g_sim, g_sim.ops + 2, 1);
    {
        uint32_t three[3] = {0x11111111u, 0x00000000u, 0x22222222u};
        uint32_t got[3];
        CHECK_EQ(f->program_words(f, 0, three, 3), DT_STORE_ERR_IO);
        CHECK_EQ(f->erase_page(f, 0), DT_STORE_ERR_IO);
        CHECK_EQ(f->read(f, 0, got, 12), DT_STORE_ERR_IO);
        dt_flash_sim_power_on(&g_sim);
        CHECK_EQ(f->read(f, 0, got, 12), DT_STORE_OK);
        CHECK_EQ(got[0], 0x11111111u);
        CHECK_EQ(got[1], 0xFFFF0000u); /* half-written: only the low 16 bits programmed */
        CHECK_EQ(got[2], 0xFFFFFFFFu);
    }
    printf("PASS nor-rules\n");
}

/* Cut power at every operation of one append (plain and torn), reopen, check. */
static void t_torn_append(void)
{
    uint32_t cut, torn, ops_before, ops_append, k, cases = 0;
    for (torn = 0; torn < 3; torn++) {
        for (cut = 1;; cut++) {
            uint32_t id;
            int err;
            fresh(1024, 2, DT_STORE_FULL_STOP);
            for (k = 0; k < 5; k++) {
                CHECK_EQ(append_k(k, 100, NULL), DT_STORE_OK);
            }
            ops_before = g_sim.ops;
            dt_flash_sim_cut_at(&g_sim, ops_before + cut, (int)torn);
            err = append_k(5, 100, &id);
            ops_append = g_sim.ops - ops_before;
            if (err == DT_STORE_OK) {
                break; /* the cut came after the append: every op inside was tried */
            }
            cases++;
            CHECK_EQ(err, DT_STORE_ERR_IO);
            reopen(DT_STORE_FULL_STOP);
            /* The torn record is not returned, every earlier one is. */
            CHECK_EQ(dt_store_count(&g_store), 5);
            for (k = 0; k < 5; k++) {
                check_index_is(k, k, 100);
            }
            CHECK_EQ(dt_store_read_id(&g_store, 6, NULL, NULL, 0, NULL), DT_STORE_ERR_NOT_FOUND);
            /* And the store goes on: the retry gets id 6 and reads back. */
            CHECK_EQ(append_k(5, 100, &id), DT_STORE_OK);
            CHECK_EQ(id, 6);
            check_index_is(5, 5, 100);
            reopen(DT_STORE_FULL_STOP);
            CHECK_EQ(dt_store_count(&g_store), 6);
            check_index_is(5, 5, 100);
            CHECK_EQ(g_sim.violations, 0);
        }
        (void)ops_append;
    }
    printf("PASS torn-append cuts=%u\n", (unsigned)cases);
}

/* A half-written commit word: every bit pattern a partial program can leave. */
static void t_half_written_commit(void)
{
    uint32_t off, w, sub, id;
    const uint32_t committed = 0x4C4F4752u;
    uint32_t zeros = ~committed, cases = 0;
    fresh(256, 2, DT_STORE_FULL_STOP);
    CHECK_EQ(append_k(0, 40, NULL), DT_STORE_OK);
    /* Commit word of record 0 is at PAGE_HDR; write record 1 by hand without its commit. */
    CHECK_EQ(append_k(1, 40, NULL), DT_STORE_OK);
    memcpy(&w, g_mem + PAGE_HDR, 4);
    CHECK_EQ(w, committed);
    off = PAGE_HDR + REC_HDR + ((sample_len(0, 40) + 3) & ~3u);
    memcpy(&w, g_mem + off, 4);
    CHECK_EQ(w, committed);
    /* Each proper subset of the 0-bits of the commit value, programmed. */
    for (sub = zeros; ; sub = (sub - 1) & zeros) {
        uint32_t partial = committed | sub; /* the bits in sub are not programmed yet */
        if (sub != 0) {
            memcpy(g_mem + off, &partial, 4);
            reopen(DT_STORE_FULL_STOP);
            CHECK_EQ(dt_store_count(&g_store), 1);
            check_index_is(0, 0, 40);
            cases++;
        }
        if (sub == 0) {
            break;
        }
        if (cases > 4096) {
            break; /* plenty */
        }
    }
    /* Append after a torn commit goes to a new page, never on top of the torn one. */
    CHECK_EQ(append_k(1, 40, &id), DT_STORE_OK);
    CHECK_EQ(id, 2);
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 2);
    check_index_is(1, 1, 40);
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS half-written-commit patterns=%u\n", (unsigned)cases);
}

static void t_corrupt(void)
{
    uint32_t k, i, id;
    uint8_t got[256];
    fresh(256, 4, DT_STORE_FULL_STOP);
    for (k = 0; k < 6; k++) {
        CHECK_EQ(append_k(k, 40, &id), DT_STORE_OK);
    }
    /* Sample index 1 (k = 1): flip one payload byte (bit rot, or an attacker). */
    {
        uint32_t off = PAGE_HDR + REC_HDR + ((sample_len(0, 40) + 3) & ~3u) + REC_HDR;
        CHECK(sample_len(1, 40) > 0);
        g_mem[off] ^= 0x10;
    }
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 6);
    memset(got, 0xA5, sizeof(got));
    {
        dt_sample_meta_t m;
        uint32_t n;
        memset(&m, 0x5A, sizeof(m));
        CHECK_EQ(dt_store_read(&g_store, 1, &m, got, sizeof(got), &n), DT_STORE_ERR_CORRUPT);
        for (i = 0; i < n; i++) {
            CHECK_EQ(got[i], 0); /* never the bad data */
        }
        CHECK_EQ(m.id, 0x5A5A5A5A); /* meta untouched */
        CHECK_EQ(dt_store_read_id(&g_store, 2, NULL, got, sizeof(got), NULL),
                 DT_STORE_ERR_CORRUPT);
    }
    for (k = 0; k < 6; k++) {
        if (k != 1) {
            check_index_is(k, k, 40);
        }
    }
    /* A corrupt header field (the class) is caught the same way. */
    g_mem[PAGE_HDR + 12] ^= 0x01;
    CHECK_EQ(dt_store_read(&g_store, 0, NULL, got, sizeof(got), NULL), DT_STORE_ERR_CORRUPT);
    printf("PASS corrupt\n");
}

/* An I/O error whose recovery also fails leaves the store refusing every call: with a
 * partial picture of the flash it could otherwise erase a page full of samples. */
static void t_failed_recovery(void)
{
    uint32_t k, id;
    uint8_t before[4 * 256], buf[256];
    fresh(256, 4, DT_STORE_FULL_STOP);
    for (k = 0; k < 8; k++) {
        CHECK_EQ(append_k(k, 60, &id), DT_STORE_OK);
    }
    dt_flash_sim_cut_at(&g_sim, g_sim.ops + 3, DT_FLASH_SIM_CLEAN);
    CHECK_EQ(append_k(8, 60, &id), DT_STORE_ERR_IO);
    dt_flash_sim_power_on(&g_sim); /* the flash works again, but nobody reopened */
    memcpy(before, g_mem, sizeof(before));
    CHECK_EQ(append_k(8, 60, &id), DT_STORE_ERR_IO);
    CHECK_EQ(dt_store_erase_all(&g_store), DT_STORE_ERR_IO);
    CHECK_EQ(dt_store_read(&g_store, 0, NULL, buf, sizeof(buf), NULL), DT_STORE_ERR_IO);
    CHECK_EQ(dt_store_read_id(&g_store, 1, NULL, buf, sizeof(buf), NULL), DT_STORE_ERR_IO);
    CHECK_EQ(dt_store_count(&g_store), 0);
    CHECK_EQ(dt_store_free_bytes(&g_store), 0);
    CHECK(memcmp(before, g_mem, sizeof(before)) == 0);
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 8);
    for (k = 0; k < 8; k++) {
        check_index_is(k, k, 60);
    }
    printf("PASS failed-recovery\n");
}

/// Records that span pages (docs/storage-format.md, sections 3 and 4) ///

static int append_sized(uint32_t k, uint32_t len, uint32_t *id)
{
    static uint8_t buf[4096];
    dt_sample_meta_t m = sample_meta(k);
    CHECK(len <= sizeof(buf));
    sample_fill(k, buf, len);
    return dt_store_append(&g_store, &m, buf, len, id);
}

/* The record at index is sample k (id k + 1) of len bytes, byte for byte, by index and
 * by id. */
static void check_sized(uint32_t index, uint32_t k, uint32_t len)
{
    static uint8_t want[4096], got[4096];
    uint32_t got_len = 12345;
    dt_sample_meta_t m, want_m = sample_meta(k);
    sample_fill(k, want, len);
    memset(got, 0xA5, sizeof(got));
    CHECK_EQ(dt_store_read(&g_store, index, &m, got, sizeof(got), &got_len), DT_STORE_OK);
    CHECK_EQ(got_len, len);
    CHECK_EQ(m.length, len);
    CHECK_EQ(m.id, k + 1u);
    CHECK_EQ(m.predicted_class, want_m.predicted_class);
    CHECK(memcmp(got, want, len) == 0);
    memset(got, 0xA5, sizeof(got));
    CHECK_EQ(dt_store_read_id(&g_store, k + 1u, &m, got, sizeof(got), &got_len), DT_STORE_OK);
    CHECK_EQ(got_len, len);
    CHECK(memcmp(got, want, len) == 0);
}

static void t_span(void)
{
    /* 8 pages of 256 bytes: 228 bytes of records a page. */
    static const uint32_t lens[] = {300, 10, 500, 0, 204, 1};
    static uint8_t before[8 * 256];
    uint32_t i, id, n, count;
    fresh(256, 8, DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_max_sample(&g_store), 7 * 228 - 24);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        CHECK_EQ(append_sized(i, lens[i], &id), DT_STORE_OK);
        CHECK_EQ(id, i + 1u);
    }
    /* Fill with records of 300 bytes until FULL: a refused one writes nothing. */
    for (n = i;; n++) {
        int err = append_sized(n, 300, &id);
        if (err == DT_STORE_ERR_FULL) {
            break;
        }
        CHECK_EQ(err, DT_STORE_OK);
    }
    CHECK(n > i);
    memcpy(before, g_mem, sizeof(before));
    CHECK_EQ(append_sized(n, 300, &id), DT_STORE_ERR_FULL);
    CHECK(memcmp(before, g_mem, sizeof(before)) == 0);
    count = dt_store_count(&g_store);
    CHECK_EQ(count, n);
    for (i = 0; i < count; i++) {
        check_sized(i, i, i < 6 ? lens[i] : 300u);
    }
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), count);
    CHECK_EQ(dt_store_next_id(&g_store), count + 1u);
    for (i = 0; i < count; i++) {
        check_sized(i, i, i < 6 ? lens[i] : 300u);
    }
    /* The largest sample fills 7 pages exactly; one more byte fits the 8th page. */
    fresh(256, 8, DT_STORE_FULL_STOP);
    CHECK_EQ(append_sized(0, 7 * 228 - 24, &id), DT_STORE_OK);
    CHECK_EQ(append_sized(1, 1, &id), DT_STORE_OK);
    CHECK_EQ(append_sized(2, 300, &id), DT_STORE_ERR_FULL);
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 2);
    check_sized(0, 0, 7 * 228 - 24);
    check_sized(1, 1, 1);
    /* A continuation page that vanished (bit rot beyond the NOR model): the record still
     * counts, reads as CORRUPT with the buffer cleared; the page is reused and the record
     * stays unreadable rather than taking the new page's bytes. */
    fresh(256, 4, DT_STORE_FULL_STOP);
    CHECK_EQ(append_sized(0, 300, &id), DT_STORE_OK); /* page 0, then 96 bytes on page 1 */
    CHECK_EQ(append_sized(1, 10, &id), DT_STORE_OK);  /* page 1, after the continuation */
    CHECK_EQ(g_sim.flash.erase_page(&g_sim.flash, 1), DT_STORE_OK);
    reopen(DT_STORE_FULL_STOP);
    CHECK_EQ(dt_store_count(&g_store), 1);
    {
        static uint8_t got[512];
        memset(got, 0xA5, sizeof(got));
        CHECK_EQ(dt_store_read(&g_store, 0, NULL, got, sizeof(got), &n), DT_STORE_ERR_CORRUPT);
        CHECK_EQ(n, 300);
        for (i = 0; i < n; i++) {
            CHECK_EQ(got[i], 0);
        }
        /* Id 2 went with the erased page, so it is handed out again. */
        CHECK_EQ(append_sized(1, 10, &id), DT_STORE_OK);
        CHECK_EQ(id, 2);
        reopen(DT_STORE_FULL_STOP);
        CHECK_EQ(dt_store_count(&g_store), 2);
        CHECK_EQ(dt_store_read(&g_store, 0, NULL, got, sizeof(got), &n), DT_STORE_ERR_CORRUPT);
        check_sized(1, 1, 10);
    }
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS span samples=%u\n", (unsigned)count);
}

/* Cut power at every operation of an append that starts mid-page and spans three pages. */
static void t_span_torn(void)
{
    uint32_t cut, torn, k, cases = 0;
    for (torn = 0; torn < 3; torn++) {
        for (cut = 1;; cut++) {
            uint32_t id;
            int err;
            fresh(256, 8, DT_STORE_FULL_STOP);
            for (k = 0; k < 2; k++) {
                CHECK_EQ(append_sized(k, 40, NULL), DT_STORE_OK);
            }
            dt_flash_sim_cut_at(&g_sim, g_sim.ops + cut, (int)torn);
            err = append_sized(2, 500, &id);
            if (err == DT_STORE_OK) {
                break;
            }
            cases++;
            CHECK_EQ(err, DT_STORE_ERR_IO);
            reopen(DT_STORE_FULL_STOP);
            CHECK_EQ(dt_store_count(&g_store), 2);
            for (k = 0; k < 2; k++) {
                check_sized(k, k, 40);
            }
            CHECK_EQ(dt_store_read_id(&g_store, 3, NULL, NULL, 0, NULL), DT_STORE_ERR_NOT_FOUND);
            CHECK_EQ(append_sized(2, 500, &id), DT_STORE_OK);
            CHECK_EQ(id, 3);
            check_sized(2, 2, 500);
            reopen(DT_STORE_FULL_STOP);
            CHECK_EQ(dt_store_count(&g_store), 3);
            check_sized(2, 2, 500);
            CHECK_EQ(g_sim.violations, 0);
        }
    }
    CHECK(cases > 3 * 125); /* every word of the 500-byte record was a cut point */
    printf("PASS span-torn cuts=%u\n", (unsigned)cases);
}

/* Overwrite-oldest with records of up to 700 bytes on 6 pages of 256: wrapping drops
 * pages holding record heads; their continuations are skipped, never read as records. */
static void t_span_overwrite(void)
{
    uint32_t k, i, id, count = 0, first;
    fresh(256, 6, DT_STORE_FULL_OVERWRITE_OLDEST);
    for (k = 0; k < 60; k++) {
        CHECK_EQ(append_sized(k, sample_len(k, 700), &id), DT_STORE_OK);
        CHECK_EQ(id, k + 1u);
        count = dt_store_count(&g_store);
        CHECK(count >= 1);
        first = k + 1u - count; /* the newest samples, contiguous, ending with this one */
        for (i = 0; i < count; i++) {
            check_sized(i, first + i, sample_len(first + i, 700));
        }
    }
    reopen(DT_STORE_FULL_OVERWRITE_OLDEST);
    CHECK_EQ(dt_store_count(&g_store), count);
    for (i = 0; i < count; i++) {
        check_sized(i, first + i, sample_len(first + i, 700));
    }
    /* The largest sample makes room by dropping every page but the one it starts on. */
    CHECK_EQ(append_sized(60, dt_store_max_sample(&g_store), &id), DT_STORE_OK);
    check_sized(dt_store_count(&g_store) - 1u, 60, dt_store_max_sample(&g_store));
    reopen(DT_STORE_FULL_OVERWRITE_OLDEST);
    check_sized(dt_store_count(&g_store) - 1u, 60, dt_store_max_sample(&g_store));
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS span-overwrite kept=%u\n", (unsigned)count);
}

/// Reboot through the file-backed flash ///

#ifndef DT_STORE_ON_TARGET

static void t_reboot_write(const char *path)
{
    uint32_t k, id;
    fresh(512, 4, DT_STORE_FULL_OVERWRITE_OLDEST);
    for (k = 0; k < 7; k++) {
        CHECK_EQ(append_k(k, 100, &id), DT_STORE_OK);
    }
    /* And one cut in the middle of the 8th. */
    dt_flash_sim_cut_at(&g_sim, g_sim.ops + 9, 1);
    CHECK_EQ(append_k(7, 100, &id), DT_STORE_ERR_IO);
    CHECK_EQ(dt_flash_sim_save(&g_sim, path), DT_STORE_OK);
    printf("PASS reboot-write\n");
}

static void t_reboot_check(const char *path)
{
    uint32_t k, id;
    CHECK_EQ(dt_flash_sim_init(&g_sim, g_mem, 512, 4), DT_STORE_OK);
    CHECK_EQ(dt_flash_sim_load(&g_sim, path), DT_STORE_OK);
    CHECK_EQ(dt_store_open(&g_store, &g_sim.flash, DT_STORE_FULL_OVERWRITE_OLDEST), DT_STORE_OK);
    CHECK_EQ(dt_store_count(&g_store), 7);
    for (k = 0; k < 7; k++) {
        check_index_is(k, k, 100);
    }
    CHECK_EQ(append_k(7, 100, &id), DT_STORE_OK);
    CHECK_EQ(id, 8);
    CHECK_EQ(dt_flash_sim_save(&g_sim, path), DT_STORE_OK);
    CHECK_EQ(g_sim.violations, 0);
    printf("PASS reboot-check count=%u\n", (unsigned)dt_store_count(&g_store));
}

/* How many samples of len bytes an empty store of pages x page_size takes (STOP policy),
 * for drip_tiny/export/store_capacity.py to be compared with. */
static void t_capacity(uint32_t page_size, uint32_t pages, uint32_t len)
{
    static uint8_t buf[MAX_FLASH];
    uint32_t n = 0;
    dt_sample_meta_t m = sample_meta(0);
    int err;
    CHECK(page_size * pages <= MAX_FLASH && len <= sizeof(buf));
    fresh(page_size, pages, DT_STORE_FULL_STOP);
    while ((err = dt_store_append(&g_store, &m, buf, len, NULL)) == DT_STORE_OK) {
        n++;
    }
    CHECK(err == DT_STORE_ERR_FULL || (err == DT_STORE_ERR_TOO_BIG && n == 0));
    printf("PASS capacity max=%u samples=%u\n", (unsigned)dt_store_max_sample(&g_store),
           (unsigned)n);
}

/* Records that span pages, for the independent Python reader of the format. */
static void t_span_write(const char *path)
{
    static const uint32_t lens[] = {300, 10, 500, 0, 204, 1};
    uint32_t i, id;
    fresh(256, 8, DT_STORE_FULL_STOP);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        CHECK_EQ(append_sized(i, lens[i], &id), DT_STORE_OK);
    }
    CHECK_EQ(dt_flash_sim_save(&g_sim, path), DT_STORE_OK);
    printf("PASS span-write\n");
}

#endif

/// Power-cut sweep ///

#define MAX_IDS 256
#define MAX_SAMPLE 1024

/* One sweep's store geometry and workload: samples up to maxlen bytes (larger than a
 * page: records span pages), `steps` steps with an erase_all at erase_step. */
typedef struct {
    uint32_t page_size, pages, maxlen, steps, erase_step;
} geometry_t;

/* 4 pages of 256 bytes, samples up to 60 bytes: several records a page. */
static const geometry_t SMALL = {256, 4, 60, 50, 30};
/* 6 pages of 128 bytes (100 bytes of records a page), samples up to 260 bytes: most
 * records span two or three pages, and wrapping drops pages that hold record heads. */
static const geometry_t SPANNING = {128, 6, 260, 30, 20};

static geometry_t g_geo;
static uint32_t g_sweep_step; /* the step run_workload stopped at */

typedef struct {
    uint32_t ids[MAX_IDS];
    uint32_t n;
} idlist_t;

/* The ids in the store, oldest first; every record must read back intact. */
static void list_store(idlist_t *l)
{
    uint32_t i;
    l->n = dt_store_count(&g_store);
    CHECK(l->n <= MAX_IDS);
    for (i = 0; i < l->n; i++) {
        dt_sample_meta_t m;
        static uint8_t buf[MAX_SAMPLE], want[MAX_SAMPLE];
        CHECK_EQ(dt_store_read(&g_store, i, &m, buf, sizeof(buf), NULL), DT_STORE_OK);
        CHECK(m.id >= 1);
        CHECK_EQ(m.length, sample_len(m.id - 1, g_geo.maxlen));
        sample_fill(m.id - 1, want, m.length);
        CHECK(memcmp(buf, want, m.length) == 0);
        if (i > 0) {
            CHECK(m.id > l->ids[i - 1]); /* monotonic */
        }
        l->ids[i] = m.id;
    }
}

/* One step of the workload: erase_all at erase_step, else append the next sample (a FULL
 * refusal retries the same sample next step; sample k always gets id k + 1). */
static int workload_step(uint32_t step)
{
    if (step == g_geo.erase_step) {
        return dt_store_erase_all(&g_store);
    }
    return append_k(dt_store_next_id(&g_store) - 1u, g_geo.maxlen, NULL);
}

/* The ids of present that the same step, run without a cut, keeps: it may drop the oldest
 * pages (overwrite-oldest) or everything (erase_all). The step runs on a copy of the
 * flash and the store, which are then put back, so the cut under test is not disturbed. */
static void kept_by_uncut_step(uint32_t step, const idlist_t *present, idlist_t *kept)
{
    static uint8_t mem[MAX_FLASH];
    static dt_flash_sim_t sim;
    static dt_store_t store;
    static idlist_t after;
    const uint32_t bytes = g_geo.page_size * g_geo.pages;
    uint32_t i, k;
    memcpy(mem, g_mem, bytes);
    sim = g_sim;
    store = g_store;
    g_sim.cut_at = 0;
    (void)workload_step(step);
    list_store(&after);
    memcpy(g_mem, mem, bytes);
    g_sim = sim;
    g_store = store;
    kept->n = 0;
    for (i = 0; i < present->n; i++) {
        for (k = 0; k < after.n && after.ids[k] != present->ids[i]; k++) {
        }
        if (k < after.n) {
            kept->ids[kept->n++] = present->ids[i];
        }
    }
}

/* The workload: steps [first, last). Stops at the first I/O error. Returns 1 if it
 * completed. On a cut, *present is the store after the last completed step, *must the
 * ids that must survive (those the uncut step keeps), *inflight the id being appended (0
 * if none). */
static int run_workload(dt_store_full_policy_t policy, uint32_t first, uint32_t last,
                        idlist_t *present, idlist_t *must, uint32_t *inflight)
{
    uint32_t step;
    list_store(present);
    for (step = first; step < last; step++) {
        int err;
        if (policy == DT_STORE_FULL_STOP || step == g_geo.erase_step) {
            /* STOP never drops a sample; erase_all may drop them all. */
            must->n = 0;
            if (step != g_geo.erase_step) {
                *must = *present;
            }
        } else {
            kept_by_uncut_step(step, present, must);
        }
        *inflight = step == g_geo.erase_step ? 0 : dt_store_next_id(&g_store);
        err = workload_step(step);
        if (err == DT_STORE_ERR_IO) {
            g_sweep_step = step;
            return 0;
        }
        CHECK(err == DT_STORE_OK || (err == DT_STORE_ERR_FULL && policy == DT_STORE_FULL_STOP));
        list_store(present);
    }
    return 1;
}

/* After a cut and a reboot: the store is a suffix of what it was after the last completed
 * step, possibly followed by the in-flight sample; everything in must is there; ids go
 * on above every acknowledged one. */
static void check_after_cut(uint32_t cut, int torn, const idlist_t *present,
                            const idlist_t *must, uint32_t inflight)
{
    static idlist_t after;
    uint32_t i, j, k, max_ack;
    list_store(&after);
    j = after.n;
    if (j > 0 && inflight != 0 && after.ids[j - 1] == inflight) {
        j--;
    }
    CHECK(j <= present->n);
    for (i = 0; i < j; i++) {
        CHECK_EQ(after.ids[i], present->ids[present->n - j + i]);
    }
    for (i = 0; i < must->n; i++) {
        for (k = 0; k < after.n && after.ids[k] != must->ids[i]; k++) {
        }
        if (k == after.n) {
            fprintf(stderr, "cut %u torn %d: acknowledged id %u lost\n", (unsigned)cut,
                    torn, (unsigned)must->ids[i]);
            exit(1);
        }
    }
    max_ack = present->n ? present->ids[present->n - 1] : 0;
    CHECK(dt_store_next_id(&g_store) > max_ack);
    CHECK_EQ(g_sim.violations, 0);
}

/* Five more appends after a reboot, then a second reboot must see the same store. */
static void check_goes_on(dt_store_full_policy_t policy)
{
    static idlist_t after, again;
    uint32_t i, id;
    for (i = 0; i < 5; i++) {
        uint32_t want = dt_store_next_id(&g_store);
        int err = append_k(want - 1, g_geo.maxlen, &id);
        if (policy == DT_STORE_FULL_STOP && err == DT_STORE_ERR_FULL) {
            break;
        }
        CHECK_EQ(err, DT_STORE_OK);
        CHECK_EQ(id, want);
    }
    list_store(&after);
    reopen(policy);
    list_store(&again);
    CHECK_EQ(again.n, after.n);
    CHECK(memcmp(again.ids, after.ids, after.n * sizeof(after.ids[0])) == 0);
    CHECK_EQ(g_sim.violations, 0);
}

static void fresh_geo(dt_store_full_policy_t policy)
{
    fresh(g_geo.page_size, g_geo.pages, policy);
}

static void sweep_one(dt_store_full_policy_t policy, int torn, uint32_t *cuts,
                      uint32_t *total_ops)
{
    static idlist_t present, must;
    uint32_t cut, inflight;
    for (cut = 1;; cut++) {
        fresh_geo(policy);
        dt_flash_sim_cut_at(&g_sim, cut, torn);
        if (run_workload(policy, 0, g_geo.steps, &present, &must, &inflight)) {
            *total_ops = g_sim.ops;
            CHECK_EQ(g_sim.violations, 0);
            return;
        }
        (*cuts)++;
        reopen(policy);
        check_after_cut(cut, torn, &present, &must, inflight);
        check_goes_on(policy);
    }
}

/* Cut power at every flash operation of the workload, for both full policies and the
 * three tear modes. */
static void sweep(const char *name, const geometry_t *geo)
{
    uint32_t cuts = 0, ops_stop = 0, ops_over = 0, o;
    int torn;
    g_geo = *geo;
    for (torn = 0; torn < 3; torn++) {
        sweep_one(DT_STORE_FULL_OVERWRITE_OLDEST, torn, &cuts, &o);
        ops_over = o;
        sweep_one(DT_STORE_FULL_STOP, torn, &cuts, &o);
        ops_stop = o;
    }
    printf("PASS %s cuts=%u ops_overwrite=%u ops_stop=%u steps=%u\n", name, (unsigned)cuts,
           (unsigned)ops_over, (unsigned)ops_stop, (unsigned)g_geo.steps);
}

/* Two power cuts: the first at every `stride`-th operation of the workload, then, after
 * the reboot (the newest page may now be closed, pages may be garbage), a second one at
 * every operation of the next 4 steps. Recovery from a recovered store is what this
 * checks. */
static void sweep_double(const char *name, const geometry_t *geo, uint32_t stride)
{
    static idlist_t present, must;
    uint32_t first, second, inflight, cuts = 0, p;
    int torn;
    g_geo = *geo;
    for (p = 0; p < 2; p++) {
        dt_store_full_policy_t policy = p ? DT_STORE_FULL_STOP : DT_STORE_FULL_OVERWRITE_OLDEST;
        for (torn = 0; torn < 3; torn++) {
            for (first = 1;; first += stride) {
                uint32_t base_ops;
                int done = 0;
                fresh_geo(policy);
                dt_flash_sim_cut_at(&g_sim, first, torn);
                if (run_workload(policy, 0, g_geo.steps, &present, &must, &inflight)) {
                    break;
                }
                /* Replay the same first cut, reboot, and retry the step that was cut. */
                for (second = 1; !done; second++) {
                    uint32_t step0, stop;
                    fresh_geo(policy);
                    dt_flash_sim_cut_at(&g_sim, first, torn);
                    (void)run_workload(policy, 0, g_geo.steps, &present, &must, &inflight);
                    step0 = g_sweep_step;
                    reopen(policy);
                    base_ops = g_sim.ops;
                    dt_flash_sim_cut_at(&g_sim, base_ops + second, torn);
                    stop = step0 + 4 < g_geo.steps ? step0 + 4 : g_geo.steps;
                    if (run_workload(policy, step0, stop, &present, &must, &inflight)) {
                        done = 1;
                        continue;
                    }
                    cuts++;
                    reopen(policy);
                    check_after_cut(second, torn, &present, &must, inflight);
                    check_goes_on(policy);
                }
            }
        }
    }
    printf("PASS %s cuts=%u\n", name, (unsigned)cuts);
}

static void t_sweep(void)
{
    sweep("sweep", &SMALL);
}

/* On the emulated board the double sweeps take every 4th first cut of the host's: the
 * host runs them all, the board checks the same code compiled for the Cortex-M4. */
#ifdef DT_STORE_ON_TARGET
#define DOUBLE_STRIDE_SCALE 4u
#else
#define DOUBLE_STRIDE_SCALE 1u
#endif

static void t_sweep_double(void)
{
    sweep_double("sweep-double", &SMALL, 11u * DOUBLE_STRIDE_SCALE);
}

static void t_sweep_span(void)
{
    sweep("sweep-span", &SPANNING);
}

static void t_sweep_span_double(void)
{
    sweep_double("sweep-span-double", &SPANNING, 53u * DOUBLE_STRIDE_SCALE);
}

typedef struct {
    const char *name;
    void (*run)(void);
} scenario_t;

static const scenario_t SCENARIOS[] = {
    {"crc", t_crc},
    {"append-read", t_append_read},
    {"open-args", t_open_args},
    {"erase-all", t_erase_all},
    {"full-stop", t_full_stop},
    {"full-overwrite", t_full_overwrite},
    {"nor-rules", t_nor_rules},
    {"torn-append", t_torn_append},
    {"half-written-commit", t_half_written_commit},
    {"failed-recovery", t_failed_recovery},
    {"corrupt", t_corrupt},
    {"sweep", t_sweep},
    {"sweep-double", t_sweep_double},
    {"span", t_span},
    {"span-torn", t_span_torn},
    {"span-overwrite", t_span_overwrite},
    {"sweep-span", t_sweep_span},
    {"sweep-span-double", t_sweep_span_double},
};
#define N_SCENARIOS (sizeof(SCENARIOS) / sizeof(SCENARIOS[0]))

#ifdef DT_STORE_ON_TARGET
/* On the emulated board: every scenario in turn; a failed check ends the emulation with
 * status 1, success with 0. */
int main(void)
{
    uint32_t i;
    for (i = 0; i < N_SCENARIOS; i++) {
        SCENARIOS[i].run();
    }
    printf("ALL PASS\n");
    return 0;
}
#else
int main(int argc, char **argv)
{
    const char *t = argc > 1 ? argv[1] : "";
    uint32_t i;
    if (!strcmp(t, "reboot-write") && argc > 2) {
        t_reboot_write(argv[2]);
        return 0;
    }
    if (!strcmp(t, "reboot-check") && argc > 2) {
        t_reboot_check(argv[2]);
        return 0;
    }
    if (!strcmp(t, "capacity") && argc > 4) {
        t_capacity((uint32_t)strtoul(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0),
                   (uint32_t)strtoul(argv[4], NULL, 0));
        return 0;
    }
    if (!strcmp(t, "span-write") && argc > 2) {
        t_span_write(argv[2]);
        return 0;
    }
    for (i = 0; i < N_SCENARIOS; i++) {
        if (!strcmp(t, SCENARIOS[i].name)) {
            SCENARIOS[i].run();
            return 0;
        }
    }
    fprintf(stderr, "unknown scenario '%s'\n", t);
    return 2;
}
#endif
