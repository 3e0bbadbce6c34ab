/*
 * boards/nrf52840/nvmc_flash.c against QEMU's NVMC model (machine microbit: the nRF51's
 * NVMC has the nRF52840's READY, CONFIG and ERASEPAGE registers at the same addresses and
 * refuses flash writes unless CONFIG = WEN, erases unless CONFIG = EEN). Prints one line
 * per check through semihosting and exits 0 when all pass, 1 at the first failure.
 * Built with -DDT_NVMC_PAGE_BYTES=1024 (the nRF51's page).
 */
#include <stdint.h>
#include <string.h>

#include "dt_board.h"
#include "dt_store.h"
#include "nrf52840.h"
#include "semihosting.h"

void dt_nrf_flash_init(void);
void test_reset_handler(void);

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

static void check(int ok, const char *what)
{
    dt_semihost_write0(ok ? "PASS " : "FAIL ");
    dt_semihost_write0(what);
    dt_semihost_write0("\n");
    if (!ok) {
        dt_semihost_exit(1);
    }
}

static int all_ff(const dt_flash_t *f, uint32_t page)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)(f->base + page * f->page_size);
    for (uint32_t i = 0; i < f->page_size; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

static dt_store_t store, reopened;

static void test_store(const dt_flash_t *f)
{
    static const uint8_t payload[3][40] = {{1, 2, 3}, {4, 5, 6, 7}, {8}};
    dt_sample_meta_t meta = {0, 1, 0.25f, 0};
    uint8_t buf[64];
    uint32_t len = 0;
    check(dt_store_open(&store, f, DT_STORE_FULL_STOP) == DT_STORE_OK, "store open (blank)");
    for (int k = 0; k < 3; k++) {
        meta.predicted_class = k;
        check(dt_store_append(&store, &meta, payload[k], 10u + 10u * (uint32_t)k, 0) ==
                  DT_STORE_OK, "store append");
    }
    check(dt_store_open(&reopened, f, DT_STORE_FULL_STOP) == DT_STORE_OK &&
              dt_store_count(&reopened) == 3, "store reopened from flash holds 3 samples");
    for (uint32_t k = 0; k < 3; k++) {
        int ok = dt_store_read(&reopened, k, &meta, buf, sizeof buf, &len) == DT_STORE_OK &&
                 len == 10u + 10u * k && memcmp(buf, payload[k], len) == 0 &&
                 meta.predicted_class == (int32_t)k;
        check(ok, "store read back");
    }
}

int main(void)
{
    dt_nrf_flash_init();
    const dt_flash_t *f = dt_board_store_flash();
    const dt_flash_t *s = dt_board_settings_flash();
    check(f->base == 0x30000u && f->page_size == 1024u && f->page_count == 8u,
          "store geometry from the linker symbols");
    check(s->base == 0x38000u && s->page_count == 2u, "settings geometry");

    for (uint32_t p = 0; p < f->page_count; p++) {
        check(f->erase_page(f, p) == DT_STORE_OK && all_ff(f, p), "erase page");
    }
    check(NVMC_CONFIG == NVMC_CONFIG_REN, "read-only mode after erase");

    uint32_t words[3] = {0x11223344u, 0x00000000u, 0xA5A5A5A5u}, back[3] = {0};
    check(f->program_words(f, 8, words, 3) == DT_STORE_OK, "program 3 words");
    check(NVMC_CONFIG == NVMC_CONFIG_REN, "read-only mode after program");
    check(f->read(f, 8, back, sizeof back) == DT_STORE_OK && memcmp(back, words, 12) == 0,
          "read back what was programmed");

    uint32_t other = 0x01020304u;
    check(f->program_words(f, 12, &other, 1) == DT_STORE_ERR_NOR, "programmed word refused");
    uint32_t pair[2] = {0x55555555u, 0x66666666u}; /* offset 4 erased, offset 8 not */
    check(f->program_words(f, 4, pair, 2) == DT_STORE_ERR_NOR, "mixed call refused");
    check(*(volatile uint32_t *)(uintptr_t)(f->base + 4) == 0xFFFFFFFFu,
          "a refused call writes nothing");
    check(f->read(f, 8, back, sizeof back) == DT_STORE_OK && memcmp(back, words, 12) == 0,
          "refused calls left the data alone");

    check(f->program_words(f, 6, &other, 1) == DT_STORE_ERR_ARG, "misaligned refused");
    check(f->program_words(f, 8u * 1024u - 4u, words, 2) == DT_STORE_ERR_ARG,
          "program past the end refused");
    check(f->erase_page(f, 8) == DT_STORE_ERR_ARG, "erase past the end refused");
    check(f->read(f, 8u * 1024u - 2u, back, 4) == DT_STORE_ERR_ARG, "read past the end refused");

    /* Without WEN the model ignores writes: so the driver's WEN is what made them work. */
    *(volatile uint32_t *)(uintptr_t)(f->base + 32) = 0;
    check(*(volatile uint32_t *)(uintptr_t)(f->base + 32) == 0xFFFFFFFFu,
          "a plain store to flash without WEN changes nothing");

    check(f->erase_page(f, 0) == DT_STORE_OK && all_ff(f, 0), "erase after program");
    for (uint32_t p = 0; p < f->page_count; p++) {
        f->erase_page(f, p);
    }
    test_store(f);

    check(s->erase_page(s, 1) == DT_STORE_OK &&
              s->program_words(s, 1024, words, 1) == DT_STORE_OK &&
              *(volatile uint32_t *)0x38400u == words[0], "settings region programs");
    dt_semihost_write0("ALL PASS\n");
    return 0;
}

void test_reset_handler(void)
{
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss;) {
        *dst++ = 0;
    }
    dt_semihost_exit(main());
}

static void fault(void)
{
    dt_semihost_exit(131);
}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
const vector_t test_vectors[4] = {
    (vector_t)(uintptr_t)_estack, test_reset_handler, fault, fault,
};
