/*
 * Test driver of firmware/app/dt_settings.c over the NOR flash simulator: cuts power at
 * every flash operation of a thresholds write (clean and torn) and checks that the next
 * boot uses either the old or the new thresholds, the new ones whenever the write was
 * acknowledged. Prints one line per finding; "ok <cases>" when all hold.
 *
 *   settings_driver <page_bytes> <pages>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drip_thresholds.h"
#include "dt_flash_sim.h"
#include "dt_settings.h"
#include "dt_store.h"

static uint8_t mem[64 * 1024];
static dt_flash_sim_t sim;
static int failures;

/* Three thresholds: the defaults (0), and two replacements (1, 2). */
static drip_thresholds_t versions[3];

static void make_versions(void)
{
    static const drip_thresholds_t defaults = DRIP_DEFAULT_THRESHOLDS;
    int c;
    versions[0] = defaults;
    for (c = 0; c < DRIP_NUM_CLASSES; c++) {
        versions[1].lower[c] = 0.1f * (float)c;
        versions[1].upper[c] = 0.1f * (float)c + 0.05f;
        versions[1].has_window[c] = 1;
        versions[2].lower[c] = -1.0f;
        versions[2].upper[c] = (float)c;
        versions[2].has_window[c] = (uint8_t)(c % 2);
    }
}

/* Field by field: struct copies need not copy padding. */
static int same(const drip_thresholds_t *a, const drip_thresholds_t *b)
{
    return memcmp(a->lower, b->lower, sizeof(a->lower)) == 0 &&
           memcmp(a->upper, b->upper, sizeof(a->upper)) == 0 &&
           memcmp(a->has_window, b->has_window, sizeof(a->has_window)) == 0;
}

static int which(const dt_settings_t *s)
{
    int v;
    for (v = 0; v < 3; v++) {
        if (same(&s->thresholds, &versions[v]) && s->hash == dt_thresholds_hash(&versions[v]) &&
            s->custom == (v != 0)) {
            return v;
        }
    }
    return -1;
}

/* Writes version v (0: RESET_THRESHOLDS). */
static int write_version(dt_settings_t *s, int v)
{
    return v == 0 ? dt_settings_reset(s) : dt_settings_set(s, &versions[v]);
}

static void check(int ok, const char *what, uint32_t cut, int torn, int step)
{
    if (!ok) {
        failures++;
        printf("FAIL %s: cut at op %u (torn %d) in step %d\n", what, (unsigned)cut, torn, step);
    }
}

/* A history of writes; power is cut at op `cut` of step `step`. */
static void scenario(uint32_t page, uint32_t pages, const int *history, int step,
                     uint32_t cut, int torn, int *cut_happened)
{
    dt_settings_t s;
    int i, before, err = 0, after;
    dt_flash_sim_init(&sim, mem, page, pages);
    dt_settings_open(&s, &sim.flash);
    check(which(&s) == 0, "blank flash gives the defaults", 0, 0, -1);
    for (i = 0; i < step; i++) {
        check(write_version(&s, history[i]) == DT_STORE_OK, "write", 0, 0, i);
        dt_settings_open(&s, &sim.flash);
        check(which(&s) == history[i], "reboot after a write", 0, 0, i);
    }
    before = which(&s);
    dt_flash_sim_cut_at(&sim, sim.ops + cut, torn);
    err = write_version(&s, history[step]);
    *cut_happened = sim.powered_off;
    dt_flash_sim_power_on(&sim);
    dt_settings_open(&s, &sim.flash);
    after = which(&s);
    check(after == before || after == history[step], "old or new after a cut", cut, torn, step);
    if (err == DT_STORE_OK) {
        check(after == history[step], "acknowledged write survives", cut, torn, step);
    }
    /* Writing again after the cut works and sticks. */
    check(write_version(&s, history[step]) == DT_STORE_OK, "write after a cut", cut, torn, step);
    dt_settings_open(&s, &sim.flash);
    check(which(&s) == history[step], "write after a cut sticks", cut, torn, step);
    check(sim.violations == 0, "NOR rules kept", cut, torn, step);
}

int main(int argc, char **argv)
{
    static const int history[] = {1, 2, 0, 2, 1, 1, 0};
    const int steps = (int)(sizeof(history) / sizeof(history[0]));
    uint32_t page, pages, cut;
    int step, torn, cases = 0;
    if (argc != 3) {
        return 2;
    }
    page = (uint32_t)atoi(argv[1]);
    pages = (uint32_t)atoi(argv[2]);
    if ((size_t)page * pages > sizeof(mem)) {
        return 2;
    }
    make_versions();
    for (step = 0; step < steps; step++) {
        for (torn = 0; torn < 3; torn++) {
            for (cut = 1;; cut++) {
                int happened;
                scenario(page, pages, history, step, cut, torn, &happened);
                cases++;
                if (!happened) {
                    break; /* the write finished before op `cut`: every op was covered */
                }
            }
        }
    }
    if (failures == 0) {
        printf("ok %d\n", cases);
    }
    return failures != 0;
}
