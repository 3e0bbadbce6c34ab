/*
 * The firmware's main loop: boot the board, then serve the protocol until a RESET was
 * answered, reset, and start over as after power-on (on an MCU dt_board_reset does not
 * return; the host board returns after re-opening its flash file).
 */
#include "dt_app.h"
#include "dt_board.h"

static void serve_forever(void)
{
    dt_board_init();
    for (;;) {
        dt_app_init();
        while (!dt_app_poll()) {
            dt_board_wait_for_event();
        }
        dt_board_reset();
    }
}

#ifdef DT_BOARD_MAIN_ARGS
#include "dt_board_args.h"

int main(int argc, char **argv)
{
    dt_board_args(argc, argv);
    serve_forever();
    return 0;
}
#else
int main(void)
{
    serve_forever();
    return 0;
}
#endif
