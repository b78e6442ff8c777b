/*
 * frame.h - tpforce wire protocol v1 codec (firmware/PROTOCOL.md), shared by the
 * sketch and the host unit test: CRC-16/CCITT-FALSE, COBS, frame encoding and an
 * incremental frame receiver. Plain C99, no Arduino dependency, no heap.
 */
#ifndef TPFORCE_FRAME_H
#define TPFORCE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TP_PROTOCOL_VERSION 1

/* Largest payload (type + body + crc16) a receiver accepts. */
#define TP_MAX_PAYLOAD 64
#define TP_MAX_BODY (TP_MAX_PAYLOAD - 3)
/* COBS adds one byte per started block of 254; a payload of 64 bytes needs one. */
#define TP_MAX_CHUNK (TP_MAX_PAYLOAD + 1)
/* A whole frame on the wire: the COBS block and its 0x00 delimiter. */
#define TP_MAX_WIRE (TP_MAX_CHUNK + 1)

/* Frame types: device to host below 0x80, host commands from 0x80. */
enum {
    TP_SAMPLE = 0x01,
    TP_INFO = 0x02,
    TP_ACK = 0x03,
    TP_LOG = 0x04,
    TP_CALIBRATION = 0x05,
    TP_HELLO = 0x80,
    TP_START = 0x81,
    TP_STOP = 0x82,
    TP_SET_RATE = 0x83,
    TP_SET_GAIN = 0x84,
    TP_READ_CAL = 0x85,
    TP_WRITE_CAL = 0x86,
    TP_IDENTIFY = 0x87
};

/* ACK status: 0 is OK, anything else a NACK reason. */
enum {
    TP_OK = 0,
    TP_UNKNOWN_COMMAND = 1,
    TP_BAD_LENGTH = 2,
    TP_BAD_VALUE = 3,
    TP_UNSUPPORTED = 4,
    TP_BAD_RECORD = 5,
    TP_STORAGE = 6
};

/* Sample flags (bits 3-4 hold the gain code of the conversion). */
enum {
    TP_FLAG_BUTTON = 1u << 0,
    TP_FLAG_SATURATED = 1u << 1,
    TP_FLAG_MISSED = 1u << 2,
    TP_FLAG_TX_DROPPED = 1u << 5 /* a reply or log frame was dropped since the last sample */
};
#define TP_FLAG_GAIN_SHIFT 3

/* INFO capability bits. */
enum {
    TP_CAP_SET_RATE = 1u << 0,
    TP_CAP_SET_GAIN = 1u << 1,
    TP_CAP_CALIBRATION = 1u << 2,
    TP_CAP_IDENTIFY = 1u << 3
};

#define TP_SAMPLE_BODY_LEN 13
#define TP_INFO_BODY_LEN 20
#define TP_ACK_BODY_LEN 3
#define TP_CAL_RECORD_LEN 26
#define TP_CAL_RECORD_VERSION 1
#define TP_SERIAL_LEN 8

/* Field offsets in the calibration record (PROTOCOL.md, 0x05 CALIBRATION). */
#define TP_CAL_OFF_VERSION 0
#define TP_CAL_OFF_ZERO 1
#define TP_CAL_OFF_N_PER_COUNT 5
#define TP_CAL_OFF_TIP_AREA 9
#define TP_CAL_OFF_CAL_UNIX 11
#define TP_CAL_OFF_SERIAL 15
#define TP_CAL_OFF_GAIN 23
#define TP_CAL_OFF_CRC 24

/* CRC-16/CCITT-FALSE: poly 0x1021, no reflection, no final xor; start with 0xFFFF. */
uint16_t tp_crc16(const uint8_t *data, size_t len, uint16_t crc);

/*
 * COBS-encode `len` bytes of `src` into `dst` (canonical form, no delimiter).
 * `dst` must hold len + len / 254 + 1 bytes; returns the encoded length.
 */
size_t tp_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);

/*
 * Decode one COBS block (without its delimiter) into `dst`; `dst` may be `src`
 * (decoding in place is safe). Returns the decoded length, or -1 if malformed.
 */
long tp_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst);

/*
 * Encode one wire frame, COBS(type | body | crc16) 0x00, into `wire` (at least
 * TP_MAX_WIRE bytes). Returns its length, or 0 if the body is too long.
 */
size_t tp_frame_encode(uint8_t type, const uint8_t *body, size_t body_len, uint8_t *wire);

/* Little-endian field helpers. */
void tp_put_u16(uint8_t *p, uint16_t v);
void tp_put_u32(uint8_t *p, uint32_t v);
uint16_t tp_get_u16(const uint8_t *p);
uint32_t tp_get_u32(const uint8_t *p);

/* The 13-byte SAMPLE body. */
void tp_pack_sample(uint8_t body[TP_SAMPLE_BODY_LEN], uint32_t seq, uint32_t t_us,
                    int32_t raw, uint8_t flags);

/* 1 if a 26-byte calibration record has version 1 and a correct record_crc. */
int tp_cal_record_ok(const uint8_t record[TP_CAL_RECORD_LEN]);

/* What one byte pushed into the receiver completed. */
typedef enum {
    TP_RX_MORE = 0,      /* inside a frame, or an empty frame (ignored) */
    TP_RX_FRAME,         /* a good frame is in the tp_frame_t */
    TP_RX_FRAMING_ERROR, /* bad COBS, too short or too long */
    TP_RX_CRC_ERROR      /* well framed, but the CRC does not match */
} tp_rx_result_t;

/* A received frame; `body` points into the receiver, valid until the next push. */
typedef struct {
    uint8_t type;
    const uint8_t *body;
    uint8_t body_len;
} tp_frame_t;

/* Incremental receiver: feed bytes one at a time, never blocks, never overflows. */
typedef struct {
    uint8_t buf[TP_MAX_CHUNK];
    uint8_t len;
    uint8_t overflow; /* the current chunk outgrew buf: discard up to the delimiter */
    uint16_t framing_errors;
    uint16_t crc_errors;
} tp_rx_t;

void tp_rx_init(tp_rx_t *rx);
tp_rx_result_t tp_rx_push(tp_rx_t *rx, uint8_t byte, tp_frame_t *frame);

#ifdef __cplusplus
}
#endif

#endif /* TPFORCE_FRAME_H */
