/*
 * test_frame.c - host unit test of the firmware's frame codec (tpforce_probe/frame.c).
 *
 * Checks the CRC check value, then every entry of tests/data/golden_frames.json: frames
 * are encoded byte for byte and received back through the incremental receiver, COBS
 * vectors round-trip, and invalid wire bytes land in the right error counter. The
 * Python codec is checked against the same file (tests/test_protocol_golden.py).
 *
 * Usage: test_frame path/to/golden_frames.json   (exit status 0 when all pass)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static int failures;
static int checks;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        checks++;                                                                          \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

/* ---- a minimal reader for the golden file's JSON (objects, arrays, strings, ints) - */

#define MAX_HEX 1024
#define MAX_FIELDS 12

typedef struct {
    char key[32];
    char str[2 * MAX_HEX + 1];
    long long num;
    int is_num;
} field_t;

typedef struct {
    field_t f[MAX_FIELDS];
    int n;
} entry_t;

static const field_t *get(const entry_t *e, const char *key)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->f[i].key, key) == 0)
            return &e->f[i];
    return NULL;
}

/* A string field, or "" if the entry lacks it (then the checks below fail loudly). */
static const char *str(const entry_t *e, const char *key)
{
    const field_t *f = get(e, key);
    return f ? f->str : "";
}

static long long num(const entry_t *e, const char *key)
{
    const field_t *f = get(e, key);
    return f ? f->num : -1;
}

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static const char *skip_ws(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Copy a JSON string (no escapes needed for this file) and return the char after it. */
static const char *read_string(const char *p, char *dst, size_t cap)
{
    size_t n = 0;
    p++; /* opening quote */
    while (*p && *p != '"') {
        if (n + 1 < cap)
            dst[n++] = *p;
        p++;
    }
    dst[n] = 0;
    return *p ? p + 1 : p;
}

typedef void (*entry_fn)(const char *section, const entry_t *e);

/*
 * Walk the document: for each object inside a top-level array, collect its flat
 * key/value pairs and hand them to `fn` with the array's key as the section name.
 */
static void walk(const char *p, entry_fn fn)
{
    char section[32] = "";
    char key[32] = "";
    int depth = 0;
    int have_key = 0;
    entry_t e;
    e.n = 0;
    while (*(p = skip_ws(p))) {
        char c = *p;
        if (c == '{' || c == '[') {
            if (c == '[' && depth == 1 && have_key)
                snprintf(section, sizeof section, "%.31s", key);
            if (c == '{' && depth == 2)
                e.n = 0;
            depth++;
            have_key = 0;
            p++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (c == '}' && depth == 2)
                fn(section, &e);
            p++;
        } else if (c == ',') {
            p++;
        } else if (c == ':') {
            have_key = 1;
            p++;
        } else if (c == '"') {
            char buf[2 * MAX_HEX + 1];
            p = read_string(p, buf, sizeof buf);
            if (*skip_ws(p) == ':') {
                snprintf(key, sizeof key, "%.31s", buf);
            } else if (depth == 3 && e.n < MAX_FIELDS) {
                field_t *f = &e.f[e.n++];
                snprintf(f->key, sizeof f->key, "%.31s", key);
                snprintf(f->str, sizeof f->str, "%s", buf);
                f->is_num = 0;
                have_key = 0;
            }
        } else {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p) {
                p++; /* true/false/null are not used; skip */
                continue;
            }
            if (depth == 3 && e.n < MAX_FIELDS) {
                field_t *f = &e.f[e.n++];
                snprintf(f->key, sizeof f->key, "%.31s", key);
                f->str[0] = 0;
                f->num = v;
                f->is_num = 1;
            }
            have_key = 0;
            p = end;
        }
    }
}

/* ---- checks -------------------------------------------------------------------- */

static int frames_seen, cobs_seen, invalid_seen;

static void check_frame(const entry_t *e)
{
    const char *name = str(e, "name");
    uint8_t body[MAX_HEX], payload[MAX_HEX], wire[MAX_HEX], out[TP_MAX_WIRE];
    uint8_t type = (uint8_t)num(e, "type");
    size_t body_len = unhex(str(e, "body"), body);
    size_t payload_len = unhex(str(e, "payload"), payload);
    size_t wire_len = unhex(str(e, "wire"), wire);
    frames_seen++;

    /* CRC and encoding, byte for byte. */
    uint16_t crc = tp_crc16(payload, payload_len - 2, 0xFFFF);
    CHECK(crc == tp_get_u16(payload + payload_len - 2), "%s: crc %04x", name, crc);
    size_t n = tp_frame_encode(type, body, body_len, out);
    CHECK(n == wire_len && memcmp(out, wire, n) == 0, "%s: encoded wire differs", name);
    CHECK(memchr(out, 0, n - 1) == NULL, "%s: zero inside the COBS block", name);

    /* Sample fields pack to the same body. */
    const field_t *seq = get(e, "seq");
    if (seq) {
        uint8_t packed[TP_SAMPLE_BODY_LEN];
        tp_pack_sample(packed, (uint32_t)seq->num, (uint32_t)num(e, "t_us"),
                       (int32_t)num(e, "raw"), (uint8_t)num(e, "flags"));
        CHECK(body_len == TP_SAMPLE_BODY_LEN && memcmp(packed, body, body_len) == 0,
              "%s: packed sample differs", name);
    }

    /* The receiver gets the frame back, fed one byte at a time after some noise. */
    tp_rx_t rx;
    tp_frame_t f;
    tp_rx_init(&rx);
    static const uint8_t noise[] = {0x13, 0x37, 0xFF, 0x00};
    int got = 0;
    for (size_t i = 0; i < sizeof noise; i++)
        got += tp_rx_push(&rx, noise[i], &f) == TP_RX_FRAME;
    CHECK(got == 0 && rx.framing_errors == 1, "%s: noise not rejected", name);
    for (size_t i = 0; i < wire_len; i++) {
        tp_rx_result_t r = tp_rx_push(&rx, wire[i], &f);
        if (i + 1 < wire_len)
            CHECK(r == TP_RX_MORE, "%s: early result at byte %zu", name, i);
        else
            CHECK(r == TP_RX_FRAME, "%s: not received (%d)", name, (int)r);
    }
    CHECK(f.type == type && f.body_len == body_len && memcmp(f.body, body, body_len) == 0,
          "%s: received frame differs", name);

    /* COBS decoding in place gives the payload. */
    memcpy(out, wire, wire_len - 1);
    long m = tp_cobs_decode(out, wire_len - 1, out);
    CHECK(m == (long)payload_len && memcmp(out, payload, payload_len) == 0,
          "%s: in-place COBS decode differs", name);
}

static void check_cobs(const entry_t *e)
{
    const char *name = str(e, "name");
    static uint8_t data[MAX_HEX], enc[MAX_HEX], out[MAX_HEX];
    size_t n = unhex(str(e, "data"), data);
    size_t m = unhex(str(e, "encoded"), enc);
    cobs_seen++;
    size_t k = tp_cobs_encode(data, n, out);
    CHECK(k == m && memcmp(out, enc, m) == 0, "%s: COBS encoding differs", name);
    CHECK(k <= n + n / 254 + 1, "%s: COBS overhead %zu", name, k - n);
    long d = tp_cobs_decode(enc, m, out);
    CHECK(d == (long)n && memcmp(out, data, n) == 0, "%s: COBS decoding differs", name);
}

static void check_invalid(const entry_t *e)
{
    const char *name = str(e, "name");
    const char *error = str(e, "error");
    uint8_t wire[MAX_HEX];
    size_t n = unhex(str(e, "wire"), wire);
    invalid_seen++;
    tp_rx_t rx;
    tp_frame_t f;
    tp_rx_init(&rx);
    tp_rx_result_t last = TP_RX_MORE;
    for (size_t i = 0; i < n; i++)
        last = tp_rx_push(&rx, wire[i], &f);
    if (strcmp(error, "crc") == 0)
        CHECK(last == TP_RX_CRC_ERROR && rx.crc_errors == 1, "%s: not a CRC error", name);
    else if (strcmp(error, "framing") == 0)
        CHECK(last == TP_RX_FRAMING_ERROR && rx.framing_errors == 1, "%s: not a framing error",
              name);
    else /* "unknown": well framed; the type is the application's business */
        CHECK(last == TP_RX_FRAME, "%s: should pass the framing layer", name);
}

static void on_entry(const char *section, const entry_t *e)
{
    if (!get(e, "name"))
        return;
    if (strcmp(section, "frames") == 0)
        check_frame(e);
    else if (strcmp(section, "cobs") == 0)
        check_cobs(e);
    else if (strcmp(section, "invalid") == 0)
        check_invalid(e);
}

/* Properties the golden file does not spell out. */
static void check_extras(void)
{
    /* The standard check value of CRC-16/CCITT-FALSE. */
    CHECK(tp_crc16((const uint8_t *)"123456789", 9, 0xFFFF) == 0x29B1, "crc check value");

    /* A body longer than the largest payload is refused. */
    uint8_t body[TP_MAX_BODY + 1] = {0};
    uint8_t wire[TP_MAX_WIRE + 8];
    CHECK(tp_frame_encode(TP_LOG, body, TP_MAX_BODY + 1, wire) == 0, "oversize body encoded");
    CHECK(tp_frame_encode(TP_LOG, body, TP_MAX_BODY, wire) == TP_MAX_WIRE, "max body length");

    /* A run with no delimiter longer than any frame is one framing error, after which
     * the receiver is in sync again. */
    tp_rx_t rx;
    tp_frame_t f;
    tp_rx_init(&rx);
    for (int i = 0; i < 1000; i++)
        tp_rx_push(&rx, 0x55, &f);
    CHECK(tp_rx_push(&rx, 0x00, &f) == TP_RX_FRAMING_ERROR && rx.framing_errors == 1,
          "long run not one framing error");
    uint8_t ack[3] = {TP_HELLO, 9, TP_OK};
    size_t n = tp_frame_encode(TP_ACK, ack, sizeof ack, wire);
    tp_rx_result_t r = TP_RX_MORE;
    for (size_t i = 0; i < n; i++)
        r = tp_rx_push(&rx, wire[i], &f);
    CHECK(r == TP_RX_FRAME && f.type == TP_ACK && f.body[1] == 9, "no resync after a long run");

    /* Empty frames (two delimiters) are ignored silently. */
    CHECK(tp_rx_push(&rx, 0x00, &f) == TP_RX_MORE && rx.framing_errors == 1, "empty frame");

    /* Calibration record: version and CRC are checked. */
    uint8_t rec[TP_CAL_RECORD_LEN] = {TP_CAL_RECORD_VERSION, 1, 2, 3};
    tp_put_u16(rec + 24, tp_crc16(rec, 24, 0xFFFF));
    CHECK(tp_cal_record_ok(rec), "good record refused");
    rec[5] ^= 1;
    CHECK(!tp_cal_record_ok(rec), "damaged record accepted");
    memset(rec, 0xFF, sizeof rec);
    CHECK(!tp_cal_record_ok(rec), "erased record accepted");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s golden_frames.json\n", argv[0]);
        return 2;
    }
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) {
        perror(argv[1]);
        return 2;
    }
    static char doc[1 << 20];
    size_t len = fread(doc, 1, sizeof doc - 1, fp);
    fclose(fp);
    doc[len] = 0;

    check_extras();
    walk(doc, on_entry);
    CHECK(frames_seen > 0 && cobs_seen > 0 && invalid_seen > 0,
          "golden file incomplete: %d frames, %d cobs, %d invalid", frames_seen, cobs_seen,
          invalid_seen);
    printf("test_frame: %d checks, %d failures (%d frames, %d COBS vectors, %d invalid)\n",
           checks, failures, frames_seen, cobs_seen, invalid_seen);
    return failures ? 1 : 0;
}
