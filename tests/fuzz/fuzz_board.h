#ifndef FUZZ_BOARD_H
#define FUZZ_BOARD_H
#include <stdint.h>
/* Erased flash, as a new board: called before each input. */
void fuzz_board_power_on(void);
/* NOR-rule violations the store or settings committed (must stay 0). */
uint32_t fuzz_board_flash_violations(void);
extern uint32_t fuzz_board_out_bytes;
#endif
