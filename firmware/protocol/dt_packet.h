/*
 * The packet of docs/protocol.md: version (1), command (1), sequence (2), length (2),
 * payload (length), CRC-32 (4) of everything before it. Little-endian.
 */
#ifndef DT_PACKET_H
#define DT_PACKET_H

#include <stdint.h>

#define DT_PACKET_VERSION 1u
#define DT_PACKET_HEADER_BYTES 6u
#define DT_PACKET_OVERHEAD 10u /* header + CRC */
#define DT_PACKET_REPLY_BIT 0x80u

typedef enum {
    DT_PACKET_OK = 0,
    DT_PACKET_SHORT,       /* fewer than 6 bytes: no header to answer */
    DT_PACKET_BAD_LENGTH,  /* size is not 10 + length (header fields are filled) */
    DT_PACKET_BAD_CRC,     /* CRC mismatch (header fields are filled) */
    DT_PACKET_BAD_VERSION  /* version is not 1 (header fields are filled) */
} dt_packet_result_t;

typedef struct {
    uint8_t version;
    uint8_t command;
    uint16_t sequence;
    uint16_t length;
    const uint8_t *payload; /* points into the parsed bytes */
    uint32_t crc;           /* the packet's CRC field (valid when the size is right) */
} dt_packet_t;

/* Check a decoded packet: size first, then CRC, then version (so a corrupted version
 * byte reads as ERR_CRC, and ERR_VERSION means a real other version). */
dt_packet_result_t dt_packet_parse(const uint8_t *raw, uint32_t n, dt_packet_t *out);

/* Finish a packet whose payload the caller already wrote at buf + DT_PACKET_HEADER_BYTES:
 * writes the header (version 1) and the CRC. Returns the packet size, or 0 when
 * 10 + payload_len exceeds cap or payload_len exceeds 65535. */
uint32_t dt_packet_finish(uint8_t *buf, uint32_t cap, uint8_t command, uint16_t sequence,
                          uint32_t payload_len);

/* CRC-32 of the packet (IEEE 802.3, as zlib.crc32). */
uint32_t dt_packet_crc32(const uint8_t *data, uint32_t len);

#endif /* DT_PACKET_H */
