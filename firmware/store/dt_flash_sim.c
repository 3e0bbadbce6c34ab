/* NOR flash simulator. Refer to dt_flash_sim.h for the contract. */
#include "dt_flash_sim.h"

#include <string.h>
#ifndef DT_FLASH_SIM_NO_FILES
#include <stdio.h>
#endif

static uint32_t region_size(const dt_flash_t *f)
{
    return f->page_size * f->page_count;
}

/* Counts one operation; returns 1 if it is the cut one (power goes off with it). */
static int sim_tick(dt_flash_sim_t *sim)
{
    sim->ops++;
    if (sim->cut_at != 0 && sim->ops == sim->cut_at) {
        sim->powered_off = 1;
        return 1;
    }
    return 0;
}

static int sim_read(const dt_flash_t *f, uint32_t off, void *dst, uint32_t len)
{
    const dt_flash_sim_t *sim = (const dt_flash_sim_t *)f->ctx;
    if (dst == NULL || off > region_size(f) || len > region_size(f) - off) {
        return DT_STORE_ERR_ARG;
    }
    if (sim->powered_off) {
        return DT_STORE_ERR_IO;
    }
    memcpy(dst, sim->mem + off, len);
    return DT_STORE_OK;
}

static int sim_program(const dt_flash_t *f, uint32_t off, const uint32_t *src,
                       uint32_t nwords)
{
    dt_flash_sim_t *sim = (dt_flash_sim_t *)f->ctx;
    uint32_t i;
    if (src == NULL || (off & 3u) != 0 || off > region_size(f) ||
        nwords > (region_size(f) - off) / 4u) {
        sim->violations++;
        return DT_STORE_ERR_ARG;
    }
    if (sim->powered_off) {
        return DT_STORE_ERR_IO;
    }
    /* Check the whole call first, so a refused call changes nothing. */
    for (i = 0; i < nwords; i++) {
        uint32_t old;
        memcpy(&old, sim->mem + off + 4u * i, 4);
        if (old != 0xFFFFFFFFu) {
            sim->violations++;
            return DT_STORE_ERR_NOR;
        }
    }
    for (i = 0; i < nwords; i++) {
        uint8_t *w = sim->mem + off + 4u * i;
        uint32_t old, val = src[i];
        memcpy(&old, w, 4);
        if (sim_tick(sim)) {
            if (sim->torn == DT_FLASH_SIM_TORN_LOW) {
                val = old & (val | 0xFFFF0000u);
            } else if (sim->torn == DT_FLASH_SIM_TORN_HIGH) {
                val = old & (val | 0x0000FFFFu);
            } else {
                val = old;
            }
            memcpy(w, &val, 4);
            return DT_STORE_ERR_IO;
        }
        val &= old;
        memcpy(w, &val, 4);
    }
    return DT_STORE_OK;
}

static int sim_erase(const dt_flash_t *f, uint32_t page)
{
    dt_flash_sim_t *sim = (dt_flash_sim_t *)f->ctx;
    uint8_t *p;
    if (page >= f->page_count) {
        sim->violations++;
        return DT_STORE_ERR_ARG;
    }
    if (sim->powered_off) {
        return DT_STORE_ERR_IO;
    }
    p = sim->mem + page * f->page_size;
    if (sim_tick(sim)) {
        if (sim->torn == DT_FLASH_SIM_TORN_LOW) {
            memset(p, 0xFF, f->page_size / 2u);
        } else if (sim->torn == DT_FLASH_SIM_TORN_HIGH) {
            memset(p + f->page_size / 2u, 0xFF, f->page_size - f->page_size / 2u);
        }
        return DT_STORE_ERR_IO;
    }
    memset(p, 0xFF, f->page_size);
    return DT_STORE_OK;
}

int dt_flash_sim_init(dt_flash_sim_t *sim, uint8_t *mem, uint32_t page_size,
                      uint32_t page_count)
{
    if (sim == NULL || mem == NULL || page_size == 0 || (page_size & 3u) != 0 ||
        page_count == 0) {
        return DT_STORE_ERR_ARG;
    }
    memset(sim, 0, sizeof(*sim));
    sim->mem = mem;
    sim->flash.page_size = page_size;
    sim->flash.page_count = page_count;
    sim->flash.base = 0;
    sim->flash.ctx = sim;
    sim->flash.read = sim_read;
    sim->flash.program_words = sim_program;
    sim->flash.erase_page = sim_erase;
    memset(mem, 0xFF, (size_t)page_size * page_count);
    return DT_STORE_OK;
}

void dt_flash_sim_cut_at(dt_flash_sim_t *sim, uint32_t n, int torn)
{
    sim->cut_at = n;
    sim->torn = torn;
}

void dt_flash_sim_power_on(dt_flash_sim_t *sim)
{
    sim->cut_at = 0;
    sim->torn = 0;
    sim->powered_off = 0;
}

#ifndef DT_FLASH_SIM_NO_FILES
int dt_flash_sim_load(dt_flash_sim_t *sim, const char *path)
{
    size_t n = (size_t)region_size(&sim->flash);
    int extra;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return DT_STORE_ERR_IO;
    }
    if (fread(sim->mem, 1, n, fp) != n) {
        fclose(fp);
        return DT_STORE_ERR_IO;
    }
    extra = fgetc(fp);
    fclose(fp);
    return extra == EOF ? DT_STORE_OK : DT_STORE_ERR_IO;
}

int dt_flash_sim_save(const dt_flash_sim_t *sim, const char *path)
{
    size_t n = (size_t)region_size(&sim->flash);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        return DT_STORE_ERR_IO;
    }
    if (fwrite(sim->mem, 1, n, fp) != n) {
        fclose(fp);
        return DT_STORE_ERR_IO;
    }
    return fclose(fp) == 0 ? DT_STORE_OK : DT_STORE_ERR_IO;
}
#endif /* DT_FLASH_SIM_NO_FILES */
