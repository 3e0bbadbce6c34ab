/*
 * The host board: dt_board.h on POSIX, so the firmware application runs as a native
 * process speaking the protocol over stdin/stdout (--stdio, the default) or a
 * pseudo-terminal (--pty), with a file-backed NOR flash.
 *
 *   firmware [--pty | --stdio] [--flash FILE] [--cut-at N[,clean|low|high]]
 *
 * --cut-at N cuts the power at the N-th flash operation since the process started
 * (programmed words and page erases of both regions, counted from 1, as dt_flash_sim
 * counts them): the operation is left undone (clean) or half done (low/high: see
 * dt_flash_sim.h), what the flash holds is written to the file, and the process exits
 * at once with status 3, as if unplugged. --cut-at 0 never cuts and prints
 * "flash operations: K" on stderr at exit, to size a sweep (tests/power_loss.py).
 *
 * --pty prints exactly one line "serial /dev/pts/N" on stdout before serving. In --stdio
 * mode stdout carries only protocol bytes (diagnostics go to stderr) and end of input
 * exits with status 0.
 *
 * Flash: the file (default ./flash.bin, created 0xFF-filled when absent) holds the store
 * region then the settings region. Each region is a dt_flash_sim (the NOR rules enforced)
 * over RAM, and every program or erase is written through to the file at once with
 * pwrite, so a killed process keeps every acknowledged sample.
 */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "dt_board.h"
#include "dt_board_args.h"
#include "dt_flash_sim.h"

/* Flash geometry (boards/host/board.json store and settings); override with -D. */
#ifndef DT_HOST_PAGE_BYTES
#define DT_HOST_PAGE_BYTES 4096u
#endif
#ifndef DT_HOST_STORE_PAGES
#define DT_HOST_STORE_PAGES 16u
#endif
#ifndef DT_HOST_SETTINGS_PAGES
#define DT_HOST_SETTINGS_PAGES 2u
#endif
/* Tests shrink the store's pages below a settings record (e.g. 64 bytes, so samples span
 * pages); the settings pages keep their own size then. */
#ifndef DT_HOST_SETTINGS_PAGE_BYTES
#define DT_HOST_SETTINGS_PAGE_BYTES DT_HOST_PAGE_BYTES
#endif
#define STORE_BYTES (DT_HOST_PAGE_BYTES * DT_HOST_STORE_PAGES)
#define SETTINGS_BYTES (DT_HOST_SETTINGS_PAGE_BYTES * DT_HOST_SETTINGS_PAGES)
#define FLASH_FILE_BYTES (STORE_BYTES + SETTINGS_BYTES)

/* One file-backed region: the simulator and where it lives in the file. */
typedef struct {
    dt_flash_sim_t sim;
    dt_flash_t flash; /* what the app gets: the simulator, then the write-through */
    uint32_t file_offset;
} region_t;

static struct {
    int pty;
    const char *flash_path;
    int in_fd, out_fd;
    int flash_fd;
    uint8_t ring[4096];
    uint32_t head, tail; /* bytes ring[tail .. head) are waiting */
    uint32_t overruns;
    uint8_t memory[FLASH_FILE_BYTES];
    region_t store, settings;
    int cut_armed;     /* --cut-at given */
    uint32_t cut_at;   /* 0: count only */
    int cut_torn;      /* DT_FLASH_SIM_CLEAN / _TORN_LOW / _TORN_HIGH */
    uint32_t ops;      /* flash operations so far, both regions */
} host;

/* Exit status of a power cut (--cut-at). */
#define HOST_CUT_EXIT 3

static void die(const char *what)
{
    fprintf(stderr, "firmware (host board): %s: %s\n", what, strerror(errno));
    exit(2);
}

static void usage(void)
{
    fprintf(stderr, "usage: firmware [--pty | --stdio] [--flash FILE] "
                    "[--cut-at N[,clean|low|high]]\n");
    exit(2);
}

static void report_ops(void)
{
    fprintf(stderr, "flash operations: %lu\n", (unsigned long)host.ops);
}

static void parse_cut(const char *arg)
{
    char *end;
    unsigned long n = strtoul(arg, &end, 10);
    if (end == arg) {
        usage();
    }
    if (*end == '\0' || strcmp(end, ",clean") == 0) {
        host.cut_torn = DT_FLASH_SIM_CLEAN;
    } else if (strcmp(end, ",low") == 0) {
        host.cut_torn = DT_FLASH_SIM_TORN_LOW;
    } else if (strcmp(end, ",high") == 0) {
        host.cut_torn = DT_FLASH_SIM_TORN_HIGH;
    } else {
        usage();
    }
    host.cut_armed = 1;
    host.cut_at = (uint32_t)n;
    if (n == 0) {
        atexit(report_ops);
    }
}

void dt_board_args(int argc, char **argv)
{
    int i;
    host.flash_path = "flash.bin";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pty") == 0) {
            host.pty = 1;
        } else if (strcmp(argv[i], "--stdio") == 0) {
            host.pty = 0;
        } else if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
            host.flash_path = argv[++i];
        } else if (strcmp(argv[i], "--cut-at") == 0 && i + 1 < argc) {
            parse_cut(argv[++i]);
        } else {
            usage();
        }
    }
}

/* ---- flash ---- */

static void write_through(const region_t *r, uint32_t off, uint32_t len)
{
    const uint8_t *src = r->sim.mem + off;
    off_t at = (off_t)r->file_offset + (off_t)off;
    while (len > 0) {
        ssize_t n = pwrite(host.flash_fd, src, len, at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die("writing the flash file");
        }
        src += n;
        at += n;
        len -= (uint32_t)n;
    }
}

static int region_read(const dt_flash_t *f, uint32_t off, void *dst, uint32_t len)
{
    region_t *r = (region_t *)f->ctx;
    return r->sim.flash.read(&r->sim.flash, off, dst, len);
}

/* Before an operation of `count` simulator ticks: when the global cut falls inside it,
 * arm the region's simulator at the matching tick of its own counter. */
static uint32_t cut_arm(region_t *r, uint32_t count)
{
    uint32_t before = r->sim.ops;
    if (host.cut_armed && host.cut_at > host.ops && host.cut_at - host.ops <= count) {
        dt_flash_sim_cut_at(&r->sim, before + (host.cut_at - host.ops), host.cut_torn);
    }
    return before;
}

/* After it: count the ticks; on a cut, persist what the flash holds and die unplugged. */
static void cut_check(region_t *r, uint32_t before, uint32_t off, uint32_t len)
{
    host.ops += r->sim.ops - before;
    if (r->sim.powered_off) {
        write_through(r, off, len);
        fprintf(stderr, "firmware (host board): power cut at flash operation %lu\n",
                (unsigned long)host.cut_at);
        _exit(HOST_CUT_EXIT);
    }
}

static int region_program(const dt_flash_t *f, uint32_t off, const uint32_t *src,
                          uint32_t nwords)
{
    region_t *r = (region_t *)f->ctx;
    uint32_t before = cut_arm(r, nwords);
    int err = r->sim.flash.program_words(&r->sim.flash, off, src, nwords);
    if (err == DT_STORE_OK || r->sim.powered_off) {
        cut_check(r, before, off, 4u * nwords);
        write_through(r, off, 4u * nwords);
    }
    return err;
}

static int region_erase(const dt_flash_t *f, uint32_t page)
{
    region_t *r = (region_t *)f->ctx;
    uint32_t before = cut_arm(r, 1);
    int err = r->sim.flash.erase_page(&r->sim.flash, page);
    if (err == DT_STORE_OK || r->sim.powered_off) {
        cut_check(r, before, page * f->page_size, f->page_size);
        write_through(r, page * f->page_size, f->page_size);
    }
    return err;
}

static void region_init(region_t *r, uint32_t file_offset, uint32_t page_bytes,
                        uint32_t pages)
{
    uint8_t *mem = host.memory + file_offset;
    /* The simulator starts erased; the file's contents are copied in after. */
    if (dt_flash_sim_init(&r->sim, mem, page_bytes, pages) != DT_STORE_OK) {
        fprintf(stderr, "firmware (host board): bad flash geometry\n");
        exit(2);
    }
    r->file_offset = file_offset;
    r->flash = r->sim.flash;
    r->flash.base = file_offset;
    r->flash.ctx = r;
    r->flash.read = region_read;
    r->flash.program_words = region_program;
    r->flash.erase_page = region_erase;
}

/* Opens (creating it 0xFF-filled) the flash file and loads it into the two regions. */
static void flash_open(void)
{
    struct stat st;
    size_t got = 0;
    region_init(&host.store, 0, DT_HOST_PAGE_BYTES, DT_HOST_STORE_PAGES);
    region_init(&host.settings, STORE_BYTES, DT_HOST_SETTINGS_PAGE_BYTES,
                DT_HOST_SETTINGS_PAGES);
    host.flash_fd = open(host.flash_path, O_RDWR | O_CREAT, 0644);
    if (host.flash_fd < 0 || fstat(host.flash_fd, &st) != 0) {
        die(host.flash_path);
    }
    if (st.st_size == 0) {
        write_through(&host.store, 0, STORE_BYTES);
        write_through(&host.settings, 0, SETTINGS_BYTES);
        return;
    }
    if (st.st_size != (off_t)FLASH_FILE_BYTES) {
        fprintf(stderr, "firmware (host board): %s has %ld bytes; this build's flash is %u "
                "bytes (store %u + settings %u): use another file or delete it\n",
                host.flash_path, (long)st.st_size, (unsigned)FLASH_FILE_BYTES,
                (unsigned)STORE_BYTES, (unsigned)SETTINGS_BYTES);
        exit(2);
    }
    while (got < FLASH_FILE_BYTES) {
        ssize_t n = pread(host.flash_fd, host.memory + got, FLASH_FILE_BYTES - got,
                          (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die("reading the flash file");
        }
        got += (size_t)n;
    }
}

const dt_flash_t *dt_board_store_flash(void)
{
    return &host.store.flash;
}

const dt_flash_t *dt_board_settings_flash(void)
{
    return &host.settings.flash;
}

/* ---- serial ---- */

static void open_pty(void)
{
    struct termios tio;
    int slave;
    const char *name;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        (name = ptsname(master)) == NULL) {
        die("opening a pseudo-terminal");
    }
    /* Holding the slave open keeps the master readable while no client is connected,
     * as a real board's UART outlives the host's connections. */
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &tio) != 0) {
        die(name);
    }
    cfmakeraw(&tio);
    if (tcsetattr(slave, TCSANOW, &tio) != 0) {
        die("raw mode");
    }
    host.in_fd = master;
    host.out_fd = master;
    printf("serial %s\n", name);
    fflush(stdout);
}

void dt_board_init(void)
{
    if (host.flash_path == NULL) {
        host.flash_path = "flash.bin"; /* dt_board_args was not called */
    }
    signal(SIGPIPE, SIG_IGN);
    /* The flash file first: once the pty's name is printed the host may stop the board
     * at any moment, and a flash file created half-way would refuse the next start. */
    flash_open();
    if (host.pty) {
        open_pty();
    } else {
        host.in_fd = STDIN_FILENO;
        host.out_fd = STDOUT_FILENO;
    }
}

const char *dt_board_name(void)
{
    return "host";
}

uint32_t dt_board_clock_hz(void)
{
    return 1000000000u; /* cycles are nanoseconds */
}

int dt_board_serial_getc(void)
{
    uint8_t c;
    if (host.tail == host.head) {
        return -1;
    }
    c = host.ring[host.tail % sizeof(host.ring)];
    host.tail++;
    return c;
}

uint32_t dt_board_serial_overruns(void)
{
    return host.overruns;
}

void dt_board_serial_write(const void *data, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    while (len > 0) {
        ssize_t n = write(host.out_fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            die("serial write");
        }
        p += n;
        len -= (uint32_t)n;
    }
}

/* Blocks until input is readable, then moves what fits into the ring. End of input on
 * stdin ends the process (status 0). */
void dt_board_wait_for_event(void)
{
    uint8_t chunk[512];
    uint32_t room = (uint32_t)sizeof(host.ring) - (host.head - host.tail);
    struct pollfd pfd;
    ssize_t n;
    if (host.head != host.tail) {
        return;
    }
    pfd.fd = host.in_fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, -1) < 0) {
        if (errno == EINTR) {
            return;
        }
        die("poll");
    }
    n = read(host.in_fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
    if (n == 0 || (n < 0 && errno == EIO && !host.pty)) {
        exit(0);
    }
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EIO) {
            return;
        }
        die("serial read");
    }
    {
        ssize_t i;
        for (i = 0; i < n; i++) {
            host.ring[host.head % sizeof(host.ring)] = chunk[i];
            host.head++;
        }
    }
}

uint32_t dt_board_cycles_begin(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
}

uint32_t dt_board_cycles_end(uint32_t start)
{
    return dt_board_cycles_begin() - start;
}

void dt_board_reset(void)
{
    /* Writes are unbuffered (write(2)); the flash file is re-read as after power-on.
     * Bytes already received stay in the ring: the host sends after the reply anyway. */
    close(host.flash_fd);
    flash_open();
}
