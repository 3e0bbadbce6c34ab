/*
 * For boards with a command line (host): dt_main.c's main(argc, argv) hands it to the
 * board before dt_board_init when the board's board.json defines DT_BOARD_MAIN_ARGS.
 * Boards without one (every MCU) neither define the macro nor implement this.
 */
#ifndef DT_BOARD_ARGS_H
#define DT_BOARD_ARGS_H

void dt_board_args(int argc, char **argv);

#endif /* DT_BOARD_ARGS_H */
