/*
 * Arm semihosting for the emulated board: the debugger (here QEMU, run with
 * -semihosting-config enable=on,target=native) carries out requests made with BKPT 0xAB.
 * On a real board without a debugger attached, BKPT 0xAB faults: use these only under QEMU.
 */
#ifndef DT_SEMIHOSTING_H
#define DT_SEMIHOSTING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ends the emulation; QEMU exits with `status` (SYS_EXIT_EXTENDED). Never returns. */
void dt_semihost_exit(int status) __attribute__((noreturn));

/* Writes `text` (NUL-terminated) to QEMU's semihosting console (SYS_WRITE0). */
void dt_semihost_write0(const char *text);

/* Writes `length` bytes of text, in chunks; a NUL byte ends the text early. */
void dt_semihost_write(const char *text, size_t length);

#ifdef __cplusplus
}
#endif

#endif /* DT_SEMIHOSTING_H */
