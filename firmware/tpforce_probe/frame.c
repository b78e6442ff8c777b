/*
 * frame.c - tpforce wire protocol v1 codec; see frame.h and firmware/PROTOCOL.md.
 */
#include "frame.h"

#include <string.h>

uint16_t tp_crc16(const uint8_t *data, size_t len, uint16_t crc)
{
    /* Bitwise: 14 bytes per sample frame on an 8-bit MCU do not justify a table. */
    while (len--) {
        crc ^= (uint16_t)(*data++) << 8;
        for (uint8_t i = 0; i < 8; i++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t tp_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst)
{
    size_t code_at = 0; /* where the current block's code byte goes */
    size_t out = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i]) {
            dst[out++] = src[i];
            if (++code == 0xFF) { /* a full block of 254 data bytes: no implied zero */
                dst[code_at] = code;
                code_at = out++;
                code = 1;
            }
        } else {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
        }
    }
    dst[code_at] = code;
    return out;
}

long tp_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst)
{
    size_t i = 0;
    size_t out = 0;
    while (i < len) {
        uint8_t code = src[i];
        if (code == 0 || i + code > len)
            return -1;
        /* Forward copy: out <= i always holds, so decoding in place is safe. */
        for (size_t k = i + 1; k < i + code; k++)
            dst[out++] = src[k];
        i += code;
        if (code != 0xFF && i < len)
            dst[out++] = 0;
    }
    return (long)out;
}

size_t tp_frame_encode(uint8_t type, const uint8_t *body, size_t body_len, uint8_t *wire)
{
    uint8_t payload[TP_MAX_PAYLOAD];
    if (body_len > TP_MAX_BODY)
        return 0;
    payload[0] = type;
    if (body_len)
        memcpy(payload + 1, body, body_len);
    uint16_t crc = tp_crc16(payload, body_len + 1, 0xFFFF);
    tp_put_u16(payload + 1 + body_len, crc);
    size_t n = tp_cobs_encode(payload, body_len + 3, wire);
    wire[n++] = 0x00;
    return n;
}

void tp_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void tp_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

uint16_t tp_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

uint32_t tp_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

void tp_pack_sample(uint8_t body[TP_SAMPLE_BODY_LEN], uint32_t seq, uint32_t t_us,
                    int32_t raw, uint8_t flags)
{
    tp_put_u32(body, seq);
    tp_put_u32(body + 4, t_us);
    tp_put_u32(body + 8, (uint32_t)raw);
    body[12] = flags;
}

int tp_cal_record_ok(const uint8_t record[TP_CAL_RECORD_LEN])
{
    if (record[0] != TP_CAL_RECORD_VERSION)
        return 0;
    return tp_crc16(record, TP_CAL_RECORD_LEN - 2, 0xFFFF) ==
           tp_get_u16(record + TP_CAL_OFF_CRC);
}

void tp_rx_init(tp_rx_t *rx)
{
    memset(rx, 0, sizeof *rx);
}

tp_rx_result_t tp_rx_push(tp_rx_t *rx, uint8_t byte, tp_frame_t *frame)
{
    if (byte != 0x00) {
        if (rx->overflow)
            return TP_RX_MORE;
        if (rx->len >= sizeof rx->buf) {
            /* Longer than any valid frame: drop it, resync at the next delimiter. */
            rx->overflow = 1;
            rx->len = 0;
            return TP_RX_MORE;
        }
        rx->buf[rx->len++] = byte;
        return TP_RX_MORE;
    }
    /* A delimiter closes the chunk collected so far. */
    uint8_t n = rx->len;
    uint8_t overflow = rx->overflow;
    rx->len = 0;
    rx->overflow = 0;
    if (overflow) {
        rx->framing_errors++;
        return TP_RX_FRAMING_ERROR;
    }
    if (n == 0)
        return TP_RX_MORE; /* empty frame: a flush, ignored silently */
    long m = tp_cobs_decode(rx->buf, n, rx->buf);
    if (m < 3 || m > TP_MAX_PAYLOAD) {
        rx->framing_errors++;
        return TP_RX_FRAMING_ERROR;
    }
    if (tp_crc16(rx->buf, (size_t)m - 2, 0xFFFF) != tp_get_u16(rx->buf + m - 2)) {
        rx->crc_errors++;
        return TP_RX_CRC_ERROR;
    }
    frame->type = rx->buf[0];
    frame->body = rx->buf + 1;
    frame->body_len = (uint8_t)(m - 3);
    return TP_RX_FRAME;
}
