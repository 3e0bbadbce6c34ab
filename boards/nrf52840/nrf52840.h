/*
 * The few nRF52840 and Cortex-M4 registers the drivers use, written from the nRF52840
 * Product Specification v1.7 (CLOCK, UARTE, NVMC, GPIO chapters) and the Armv7-M
 * Architecture Reference Manual (SCB, NVIC, DWT). No vendor header.
 */
#ifndef DT_NRF52840_H
#define DT_NRF52840_H

#include <stdint.h>

#define DT_REG(addr) (*(volatile uint32_t *)(addr))

/* ---- Cortex-M4 core ---- */
#define SCB_AIRCR DT_REG(0xE000ED0Cu)
#define AIRCR_VECTKEY (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)
#define SCB_CPACR DT_REG(0xE000ED88u)
#define CPACR_CP10_CP11_FULL (0xFu << 20)
#define CORE_DHCSR DT_REG(0xE000EDF0u)
#define DHCSR_C_DEBUGEN (1u << 0)
#define CORE_DEMCR DT_REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL DT_REG(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT DT_REG(0xE0001004u)
#define DWT_LAR DT_REG(0xE0001FB0u) /* lock access: writes ignored where not implemented */
#define DWT_LAR_KEY 0xC5ACCE55u
#define NVIC_ISER0 DT_REG(0xE000E100u)
#define NVIC_ICPR0 DT_REG(0xE000E280u)
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))

/* ---- CLOCK (0x40000000) ---- */
#define CLOCK_TASKS_HFCLKSTART DT_REG(0x40000000u)
#define CLOCK_EVENTS_HFCLKSTARTED DT_REG(0x40000100u)

/* ---- UARTE0 (0x40002000), interrupt 2 (shared with UART0) ---- */
#define UARTE0_IRQ 2u
#define UARTE0 0x40002000u
#define UARTE_TASKS_STARTRX DT_REG(UARTE0 + 0x000u)
#define UARTE_TASKS_STOPRX DT_REG(UARTE0 + 0x004u)
#define UARTE_TASKS_STARTTX DT_REG(UARTE0 + 0x008u)
#define UARTE_TASKS_STOPTX DT_REG(UARTE0 + 0x00Cu)
#define UARTE_EVENTS_ENDRX DT_REG(UARTE0 + 0x110u)
#define UARTE_EVENTS_ENDTX DT_REG(UARTE0 + 0x120u)
#define UARTE_EVENTS_ERROR DT_REG(UARTE0 + 0x124u)
#define UARTE_EVENTS_RXTO DT_REG(UARTE0 + 0x144u)
#define UARTE_EVENTS_TXSTOPPED DT_REG(UARTE0 + 0x158u)
#define UARTE_SHORTS DT_REG(UARTE0 + 0x200u)
#define UARTE_INTENSET DT_REG(UARTE0 + 0x304u)
#define UARTE_INTENCLR DT_REG(UARTE0 + 0x308u)
#define UARTE_ERRORSRC DT_REG(UARTE0 + 0x480u) /* write 1 to clear */
#define UARTE_ENABLE DT_REG(UARTE0 + 0x500u)
#define UARTE_PSEL_RTS DT_REG(UARTE0 + 0x508u)
#define UARTE_PSEL_TXD DT_REG(UARTE0 + 0x50Cu)
#define UARTE_PSEL_CTS DT_REG(UARTE0 + 0x510u)
#define UARTE_PSEL_RXD DT_REG(UARTE0 + 0x514u)
#define UARTE_BAUDRATE DT_REG(UARTE0 + 0x524u)
#define UARTE_RXD_PTR DT_REG(UARTE0 + 0x534u)
#define UARTE_RXD_MAXCNT DT_REG(UARTE0 + 0x538u)
#define UARTE_RXD_AMOUNT DT_REG(UARTE0 + 0x53Cu)
#define UARTE_TXD_PTR DT_REG(UARTE0 + 0x544u)
#define UARTE_TXD_MAXCNT DT_REG(UARTE0 + 0x548u)
#define UARTE_CONFIG DT_REG(UARTE0 + 0x56Cu)
#define UARTE_ENABLE_ON 8u
#define UARTE_BAUD_1M 0x10000000u
#define UARTE_CONFIG_HWFC (1u << 0)
#define UARTE_INT_ENDRX (1u << 4)
#define UARTE_INT_ERROR (1u << 9)
#define UARTE_ERROR_OVERRUN (1u << 0)

/* ---- GPIO P0 (0x50000000) ---- */
#define P0_OUTSET DT_REG(0x50000508u)
#define P0_PIN_CNF(pin) DT_REG(0x50000700u + 4u * (pin))
#define PIN_CNF_OUTPUT 0x1u         /* DIR = output, input buffer connected */
#define PIN_CNF_INPUT 0x0u          /* DIR = input, input buffer connected, no pull */

/* ---- NVMC (0x4001E000) ---- */
#define NVMC_READY DT_REG(0x4001E400u)
#define NVMC_CONFIG DT_REG(0x4001E504u)
#define NVMC_ERASEPAGE DT_REG(0x4001E508u)
#define NVMC_CONFIG_REN 0u
#define NVMC_CONFIG_WEN 1u
#define NVMC_CONFIG_EEN 2u

#endif /* DT_NRF52840_H */
