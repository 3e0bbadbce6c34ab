/*
 * The codes on the wire (docs/protocol.md): command codes, reply statuses and CLASSIFY's
 * store result. This header is their one definition; the host's copy in
 * drip_tiny/link/protocol.py is checked against it, name for name and value for value, by
 * tests/test_wire_codes.py.
 */
#ifndef DT_WIRE_H
#define DT_WIRE_H

typedef enum {
    DT_CMD_IDENTIFY = 0x01,
    DT_CMD_CLASSIFY = 0x02,
    DT_CMD_STATISTICS = 0x03,
    DT_CMD_STORE_LIST = 0x10,
    DT_CMD_STORE_READ = 0x11,
    DT_CMD_STORE_ERASE = 0x12,
    DT_CMD_SET_THRESHOLDS = 0x20,
    DT_CMD_RESET_THRESHOLDS = 0x21,
    DT_CMD_RESET = 0x7F
} dt_command_code_t;

typedef enum {
    DT_STATUS_OK = 0,
    DT_STATUS_ERR_CRC = 1,
    DT_STATUS_ERR_VERSION = 2,
    DT_STATUS_ERR_UNKNOWN_COMMAND = 3,
    DT_STATUS_ERR_LENGTH = 4,
    DT_STATUS_ERR_TOO_LONG = 5,
    DT_STATUS_ERR_SAMPLE_SIZE = 6,
    DT_STATUS_ERR_STORE = 7,
    DT_STATUS_ERR_STORE_FULL = 8,
    DT_STATUS_ERR_NOT_FOUND = 9,
    DT_STATUS_ERR_THRESHOLDS = 10,
    DT_STATUS_ERR_BUSY = 11
} dt_status_t;

/* CLASSIFY's store result: what became of the sample. */
typedef enum {
    DT_STORE_RESULT_STORED = 0,    /* kept and written; the reply carries its index */
    DT_STORE_RESULT_DISCARDED = 1, /* dropped by the DRIP decision: nothing to store */
    DT_STORE_RESULT_FULL = 2,      /* kept, but the store is full (stop policy): not written */
    DT_STORE_RESULT_ERROR = 3      /* kept, but the write failed: the sample is lost */
} dt_store_result_t;

/* The store index in a CLASSIFY reply when nothing was stored. */
#define DT_WIRE_NOT_STORED 0xFFFFFFFFu

#endif /* DT_WIRE_H */
