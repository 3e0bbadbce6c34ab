/* Packet parse and build. Refer to dt_packet.h. */
#include "dt_packet.h"

#include <stddef.h>

#include "dt_le.h"
#include "dt_store.h" /* dt_store_crc32: the same CRC-32 as the store's records */

uint32_t dt_packet_crc32(const uint8_t *data, uint32_t len)
{
    return dt_store_crc32(0, data, len);
}

dt_packet_result_t dt_packet_parse(const uint8_t *raw, uint32_t n, dt_packet_t *out)
{
    if (raw == NULL || out == NULL || n < DT_PACKET_HEADER_BYTES) {
        return DT_PACKET_SHORT;
    }
    out->version = raw[0];
    out->command = raw[1];
    out->sequence = dt_get_u16(raw + 2);
    out->length = dt_get_u16(raw + 4);
    out->payload = raw + DT_PACKET_HEADER_BYTES;
    out->crc = 0;
    if (n != DT_PACKET_OVERHEAD + (uint32_t)out->length) {
        return DT_PACKET_BAD_LENGTH;
    }
    out->crc = dt_get_u32(raw + n - 4u);
    if (dt_packet_crc32(raw, n - 4u) != out->crc) {
        return DT_PACKET_BAD_CRC;
    }
    if (out->version != DT_PACKET_VERSION) {
        return DT_PACKET_BAD_VERSION;
    }
    return DT_PACKET_OK;
}

uint32_t dt_packet_finish(uint8_t *buf, uint32_t cap, uint8_t command, uint16_t sequence,
                          uint32_t payload_len)
{
    uint32_t body;
    if (buf == NULL || payload_len > 0xFFFFu || cap < DT_PACKET_OVERHEAD ||
        payload_len > cap - DT_PACKET_OVERHEAD) {
        return 0;
    }
    buf[0] = (uint8_t)DT_PACKET_VERSION;
    buf[1] = command;
    dt_put_u16(buf + 2, sequence);
    dt_put_u16(buf + 4, (uint16_t)payload_len);
    body = DT_PACKET_HEADER_BYTES + payload_len;
    dt_put_u32(buf + body, dt_packet_crc32(buf, body));
    return body + 4u;
}
