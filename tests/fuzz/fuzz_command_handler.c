/*
 * libFuzzer target: the whole command handler of the firmware (firmware/app with the
 * generated model of a real run), fed the input as bytes from the serial port. Every
 * input starts from erased flash and dt_app_init (a fresh board), so a finding replays
 * alone. Beyond ASan/UBSan it checks that the app never breaks the NOR rules and that
 * a RESET ends feeding as dt_app_poll would.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dt_app.h"
#include "fuzz_board.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i;
    fuzz_board_power_on();
    dt_app_init();
    for (i = 0; i < size; i++) {
        if (dt_app_feed(data[i])) {
            dt_app_init(); /* RESET answered: boot again on the same flash */
        }
    }
    if (fuzz_board_flash_violations() != 0) {
        abort();
    }
    return 0;
}
