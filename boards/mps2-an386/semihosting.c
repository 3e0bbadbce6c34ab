#include "semihosting.h"

#include <stdint.h>

/* Operation numbers and the exit reason, from Arm's semihosting specification. */
#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uintptr_t semihost_call(uintptr_t operation, const void *argument)
{
    register uintptr_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void dt_semihost_exit(int status)
{
    /* SYS_EXIT_EXTENDED takes the reason and the status in a block, so any status (not
     * only 0 or 1, as with SYS_EXIT on 32-bit Arm) reaches QEMU's exit code. */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    for (;;) {
        semihost_call(SYS_EXIT_EXTENDED, block);
    }
}

void dt_semihost_write0(const char *text)
{
    semihost_call(SYS_WRITE0, text);
}

void dt_semihost_write(const char *text, size_t length)
{
    char chunk[65];
    while (length > 0) {
        size_t n = length < sizeof chunk - 1 ? length : sizeof chunk - 1;
        for (size_t i = 0; i < n; i++) {
            chunk[i] = text[i];
        }
        chunk[n] = '\0';
        dt_semihost_write0(chunk);
        text += n;
        length -= n;
    }
}
