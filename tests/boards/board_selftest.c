/*
 * A board self-test that uses only dt_board.h and the sample store: the tests build it for
 * every Cortex-M board (mps2-an386 runs it under QEMU; nrf52840 only links it).
 *
 * On boot it sends "BOOT count=<samples in the store>\n", then serves one-byte commands
 * (lengths and indexes are 4 bytes, little endian; replies end with '\n'):
 *   'E' n     echo: the next n bytes come back as they arrive
 *   'B' k n   busy: spin k loop iterations without reading (bytes pile up in the board's
 *             receive path), then echo n bytes
 *   'O'       "O <dt_board_serial_overruns()>"
 *   'F'       "F <store erased> <settings erased>": 1 when every byte of the region is 0xFF
 *   'A' n ... append an n-byte sample: "A <status> <id>"
 *   'R' i     read sample i: "R <status> <length>" then the payload bytes
 *   'N'       flash rules on the settings' last page: "N <erase> <program> <again> <readback>
 *             <misaligned>" (statuses; readback is the word in hex)
 *   'Y'       cycle markers: "Y <value of dt_board_cycles_end>"
 *   'X'       dt_board_reset (after "X\n")
 *   'Q'       "BYE", then end: exit status 0 through semihosting (DT_SELFTEST_SEMIHOSTING)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dt_board.h"
#include "dt_store.h"
#ifdef DT_SELFTEST_SEMIHOSTING
#include "semihosting.h"
#endif

static dt_store_t store;
static uint8_t sample[2048];

static uint8_t get_byte(void)
{
    int c;
    while ((c = dt_board_serial_getc()) < 0) {
        dt_board_wait_for_event();
    }
    return (uint8_t)c;
}

static uint32_t get_u32(void)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)get_byte() << (8 * i);
    }
    return v;
}

static void put_text(const char *text)
{
    dt_board_serial_write(text, (uint32_t)strlen(text));
}

static void reply(const char *format, long a, long b, long c)
{
    char line[96];
    snprintf(line, sizeof line, format, a, b, c);
    put_text(line);
}

static void echo(uint32_t n)
{
    while (n-- > 0) {
        uint8_t b = get_byte();
        dt_board_serial_write(&b, 1);
    }
}

static void busy_then_echo(uint32_t spins, uint32_t n)
{
    for (volatile uint32_t i = 0; i < spins; i++) {
    }
    echo(n);
}

static void append(uint32_t n)
{
    dt_sample_meta_t meta = {0, 3, 0.5f, 0};
    uint32_t id = 0, i;
    int status;
    for (i = 0; i < n; i++) {
        uint8_t b = get_byte();
        if (i < sizeof sample) {
            sample[i] = b;
        }
    }
    status = n <= sizeof sample ? dt_store_append(&store, &meta, sample, n, &id)
                                : DT_STORE_ERR_TOO_BIG;
    reply("A %ld %ld\n", status, (long)id, 0);
}

static void read_back(uint32_t index)
{
    uint32_t length = 0;
    int status = dt_store_read(&store, index, NULL, sample, sizeof sample, &length);
    reply("R %ld %ld\n", status, (long)(status == DT_STORE_OK ? length : 0), 0);
    if (status == DT_STORE_OK) {
        dt_board_serial_write(sample, length);
    }
}

static void flash_rules(void)
{
    const dt_flash_t *f = dt_board_settings_flash();
    uint32_t last = f->page_count - 1, off = last * f->page_size;
    uint32_t word = 0x12345678u, other = 0x00000000u, seen = 0;
    char line[96];
    int erase = f->erase_page(f, last);
    int program = f->program_words(f, off, &word, 1);
    int again = f->program_words(f, off, &other, 1); /* 0 only clears bits: still refused */
    int misaligned = f->program_words(f, off + 6u, &word, 1);
    f->read(f, off, &seen, 4);
    snprintf(line, sizeof line, "N %d %d %d %08lx %d\n", erase, program, again,
             (unsigned long)seen, misaligned);
    put_text(line);
    f->erase_page(f, last);
}

static int all_erased(const dt_flash_t *f)
{
    uint8_t chunk[256];
    for (uint32_t off = 0; off < f->page_size * f->page_count; off += sizeof chunk) {
        if (f->read(f, off, chunk, sizeof chunk) != DT_STORE_OK) {
            return 0;
        }
        for (uint32_t i = 0; i < sizeof chunk; i++) {
            if (chunk[i] != 0xFFu) {
                return 0;
            }
        }
    }
    return 1;
}

static void cycles(void)
{
    uint32_t start = dt_board_cycles_begin();
    uint32_t value = dt_board_cycles_end(start);
    char line[32];
    snprintf(line, sizeof line, "Y %lu\n", (unsigned long)value);
    put_text(line);
}

int main(void)
{
    dt_board_init();
    int status = dt_store_open(&store, dt_board_store_flash(), DT_STORE_FULL_STOP);
    reply("BOOT count=%ld status=%ld\n", (long)dt_store_count(&store), status, 0);
    for (;;) {
        switch (get_byte()) {
        case 'E': echo(get_u32()); break;
        case 'B': {
            uint32_t spins = get_u32();
            busy_then_echo(spins, get_u32());
            break;
        }
        case 'O': reply("O %ld\n", (long)dt_board_serial_overruns(), 0, 0); break;
        case 'A': append(get_u32()); break;
        case 'R': read_back(get_u32()); break;
        case 'N': flash_rules(); break;
        case 'F':
            reply("F %ld %ld\n", all_erased(dt_board_store_flash()),
                  all_erased(dt_board_settings_flash()), 0);
            break;
        case 'Y': cycles(); break;
        case 'X': put_text("X\n"); dt_board_reset(); break;
        case 'Q':
            put_text("BYE\n");
#ifdef DT_SELFTEST_SEMIHOSTING
            dt_semihost_exit(0);
#endif
            break;
        default: put_text("?\n"); break;
        }
    }
}
