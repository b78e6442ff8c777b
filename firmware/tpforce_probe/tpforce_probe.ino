/*
 * tpforce_probe.ino - tpforce force probe: a load cell on an ADC, streamed to the host
 * as wire protocol v1 frames (firmware/PROTOCOL.md).
 *
 * loop() never blocks: it polls the ADC, the button, the serial receiver, the EEPROM
 * writer and the LED, and pumps queued frames into the UART as room frees up. Samples
 * are raw counts, one frame per conversion, with no averaging on the board.
 *
 * Functions are defined before use, so plain avr-gcc builds (firmware/Makefile) need
 * no generated prototypes.
 */
#include <avr/eeprom.h>

#include "adc.h"
#include "config.h"
#include "frame.h"

/* ---- transmit queue: whole frames in, bytes out as the UART takes them ---------- */

static uint8_t tx_queue[TP_TX_QUEUE_BYTES];
static uint8_t tx_head;  /* next byte written */
static uint8_t tx_tail;  /* next byte sent */
static uint8_t tx_count; /* bytes waiting */

/* Move queued bytes into the UART buffer without waiting. */
static void tx_pump(void)
{
    int room = Serial.availableForWrite();
    while (tx_count && room-- > 0) {
        Serial.write(tx_queue[tx_tail]);
        tx_tail = (uint8_t)((tx_tail + 1) % TP_TX_QUEUE_BYTES);
        tx_count--;
    }
}

static uint8_t tx_dropped;         /* a non-sample frame was dropped: flag the next sample */

/*
 * Queue one frame, never waiting. A sample frame is dropped when the queue lacks room
 * for it plus one reply (the host sees the gap in seq); any other frame is dropped when
 * the queue lacks room for it, and the next sample carries TP_FLAG_TX_DROPPED, so that
 * no loss is silent. Returns 1 if the frame was queued.
 */
static uint8_t send_frame(uint8_t type, const uint8_t *body, uint8_t len)
{
    uint8_t wire[TP_MAX_WIRE];
    uint8_t n = (uint8_t)tp_frame_encode(type, body, len, wire);
    if (n == 0)
        return 0;
    tx_pump(); /* make what room the UART allows first */
    uint16_t reserve = type == TP_SAMPLE ? TP_MAX_WIRE : 0;
    if ((uint16_t)tx_count + n + reserve > TP_TX_QUEUE_BYTES) {
        if (type != TP_SAMPLE)
            tx_dropped = 1;
        return 0;
    }
    for (uint8_t i = 0; i < n; i++) {
        tx_queue[tx_head] = wire[i];
        tx_head = (uint8_t)((tx_head + 1) % TP_TX_QUEUE_BYTES);
    }
    tx_count += n;
    tx_pump();
    return 1;
}

static void send_ack(uint8_t command, uint8_t token, uint8_t status)
{
    uint8_t body[TP_ACK_BODY_LEN] = {command, token, status};
    send_frame(TP_ACK, body, sizeof body);
}

/* A LOG frame; `text` is a flash string (F("...")). */
static void send_log(uint8_t level, const __FlashStringHelper *text)
{
    uint8_t body[TP_MAX_BODY];
    const char *p = (const char *)text;
    uint8_t n = 0;
    body[n++] = level;
    char c;
    while (n < sizeof body && (c = (char)pgm_read_byte(p++)) != 0)
        body[n++] = (uint8_t)c;
    send_frame(TP_LOG, body, n);
}

/* ---- state ---------------------------------------------------------------------- */

static uint8_t streaming = 1;      /* a device streams on boot */
static uint32_t seq;               /* sequence number of the next conversion */
static uint8_t serial_no[TP_SERIAL_LEN];
static uint32_t last_data_ms;      /* millis() of the last conversion, for the watchdog */
static uint8_t adc_silent;         /* a warning about a silent ADC was sent */
static tp_rx_t rx;

/* ---- calibration record in EEPROM ----------------------------------------------- */

static uint8_t ee_record[TP_CAL_RECORD_LEN]; /* the record being written */
static int8_t ee_index = -1;                  /* next byte to write, -1 when idle */
static uint8_t ee_token;                      /* token of the WRITE_CAL being served */

static void load_serial_number(void)
{
    uint8_t record[TP_CAL_RECORD_LEN];
    eeprom_read_block(record, (const void *)TP_EEPROM_CAL_ADDR, sizeof record);
    if (tp_cal_record_ok(record))
        memcpy(serial_no, record + TP_CAL_OFF_SERIAL, TP_SERIAL_LEN);
    else
        memset(serial_no, 0, TP_SERIAL_LEN);
}

/*
 * Write the pending record one byte per loop pass, only when the EEPROM is idle, so
 * that the 3.4 ms per byte never stalls sampling; then verify and acknowledge.
 */
static void eeprom_service(void)
{
    if (ee_index < 0 || !eeprom_is_ready())
        return;
    if (ee_index < TP_CAL_RECORD_LEN) {
        uint8_t *addr = (uint8_t *)(TP_EEPROM_CAL_ADDR + ee_index);
        if (eeprom_read_byte(addr) != ee_record[ee_index])
            eeprom_write_byte(addr, ee_record[ee_index]); /* starts the write, no wait */
        ee_index++;
        return;
    }
    uint8_t check[TP_CAL_RECORD_LEN];
    eeprom_read_block(check, (const void *)TP_EEPROM_CAL_ADDR, sizeof check);
    uint8_t ok = memcmp(check, ee_record, sizeof check) == 0;
    if (ok)
        memcpy(serial_no, ee_record + TP_CAL_OFF_SERIAL, TP_SERIAL_LEN);
    ee_index = -1;
    send_ack(TP_WRITE_CAL, ee_token, ok ? TP_OK : TP_STORAGE);
}

/* ---- button and LED ------------------------------------------------------------- */

static uint8_t button_down;        /* debounced state */
static uint8_t button_latched;     /* pressed since the last sample: a tap between two
                                      conversions (100 ms apart at 10 SPS) still shows */
static uint8_t button_seen;        /* last raw reading */
static uint32_t button_change_ms;  /* when the raw reading last changed */

static void button_service(uint32_t now_ms)
{
#if TP_BUTTON_PIN >= 0
    uint8_t pressed = digitalRead(TP_BUTTON_PIN) == LOW;
    if (pressed != button_seen) {
        button_seen = pressed;
        button_change_ms = now_ms;
    } else if (pressed != button_down && now_ms - button_change_ms >= TP_BUTTON_DEBOUNCE_MS) {
        button_down = pressed;
        if (pressed)
            button_latched = 1;
    }
#else
    (void)now_ms;
#endif
}

static uint32_t identify_until_ms;
static uint32_t blink_ms;
static uint8_t identifying;

static void led_service(uint32_t now_ms)
{
#if TP_LED_PIN >= 0
    if (!identifying)
        return;
    if ((int32_t)(now_ms - identify_until_ms) >= 0) {
        identifying = 0;
        digitalWrite(TP_LED_PIN, LOW);
    } else if ((int32_t)(now_ms - blink_ms) >= (int32_t)TP_IDENTIFY_BLINK_MS) {
        /* signed: blink_ms may be a tick newer than the now_ms this pass began with */
        blink_ms = now_ms;
        digitalWrite(TP_LED_PIN, !digitalRead(TP_LED_PIN));
    }
#else
    (void)now_ms;
#endif
}

/* ---- frames out ----------------------------------------------------------------- */

static void send_info(void)
{
    uint8_t b[TP_INFO_BODY_LEN];
    b[0] = TP_PROTOCOL_VERSION;
    b[1] = TP_FW_MAJOR;
    b[2] = TP_FW_MINOR;
    b[3] = TP_FW_PATCH;
    b[4] = TP_BOARD;
    b[5] = adc_id();
    tp_put_u16(b + 6, adc_rate_sps());
    b[8] = adc_gain();
    b[9] = streaming;
    memcpy(b + 10, serial_no, TP_SERIAL_LEN);
    uint16_t caps = adc_caps() | TP_CAP_CALIBRATION;
#if TP_LED_PIN >= 0
    caps |= TP_CAP_IDENTIFY;
#endif
    tp_put_u16(b + 18, caps);
    send_frame(TP_INFO, b, sizeof b);
}

static void sample_service(uint32_t now_ms)
{
    adc_reading_t r;
    if (!adc_poll(&r)) {
        if (streaming && !adc_silent && (int32_t)(now_ms - last_data_ms) > 1000) {
            /* signed: START may have set last_data_ms a tick after now_ms was taken */
            adc_silent = 1;
            send_log(2, F("no data from the ADC for 1 s: check its wiring"));
        }
        return;
    }
    last_data_ms = now_ms;
    adc_silent = 0;
    seq += r.missed; /* a lost conversion still uses its seq */
    uint8_t flags = (uint8_t)(r.gain << TP_FLAG_GAIN_SHIFT);
    if (button_down || button_latched)
        flags |= TP_FLAG_BUTTON;
    button_latched = 0;
    if (r.saturated)
        flags |= TP_FLAG_SATURATED;
    if (r.missed)
        flags |= TP_FLAG_MISSED;
    if (tx_dropped)
        flags |= TP_FLAG_TX_DROPPED;
    if (streaming) {
        uint8_t body[TP_SAMPLE_BODY_LEN];
        tp_pack_sample(body, seq, r.t_us, r.raw, flags);
        if (send_frame(TP_SAMPLE, body, sizeof body))
            tx_dropped = 0; /* the host has been told */
    }
    seq++;
}

/* ---- commands in ---------------------------------------------------------------- */

static void handle_command(const tp_frame_t *f)
{
    if (f->type < 0x80)
        return; /* a device-to-host frame echoed back: not a command */
    if (f->body_len < 1) {
        send_ack(f->type, 0, TP_BAD_LENGTH); /* no token to echo */
        return;
    }
    uint8_t token = f->body[0];
    const uint8_t *arg = f->body + 1;
    uint8_t n = f->body_len - 1;
    uint8_t status = TP_OK;
    switch (f->type) {
    case TP_HELLO:
        send_info();
        break;
    case TP_START:
        seq = 0;
        streaming = 1;
        adc_resync();
        last_data_ms = millis();
        break;
    case TP_STOP:
        streaming = 0;
        break;
    case TP_SET_RATE:
        status = n != 2 ? (uint8_t)TP_BAD_LENGTH : adc_set_rate(tp_get_u16(arg));
        break;
    case TP_SET_GAIN:
        status = n != 1 ? (uint8_t)TP_BAD_LENGTH : adc_set_gain(arg[0]);
        break;
    case TP_READ_CAL: {
        uint8_t record[TP_CAL_RECORD_LEN];
        eeprom_read_block(record, (const void *)TP_EEPROM_CAL_ADDR, sizeof record);
        send_frame(TP_CALIBRATION, record, sizeof record);
        /* Never written (erased, version 0xFF) is a state, not an error; damaged is. */
        if (record[0] != 0xFF && !tp_cal_record_ok(record))
            status = TP_BAD_RECORD;
        break;
    }
    case TP_WRITE_CAL:
        if (n != TP_CAL_RECORD_LEN) {
            status = TP_BAD_LENGTH;
        } else if (!tp_cal_record_ok(arg)) {
            status = TP_BAD_RECORD;
        } else {
            memcpy(ee_record, arg, TP_CAL_RECORD_LEN);
            ee_index = 0;
            ee_token = token;
            return; /* acknowledged by eeprom_service() once written and verified */
        }
        break;
    case TP_IDENTIFY:
#if TP_LED_PIN >= 0
        if (n != 1) {
            status = TP_BAD_LENGTH;
        } else {
            identifying = 1;
            blink_ms = millis();
            identify_until_ms = blink_ms + 1000UL * arg[0];
            digitalWrite(TP_LED_PIN, HIGH);
        }
#else
        status = TP_UNSUPPORTED;
#endif
        break;
    default:
        status = TP_UNKNOWN_COMMAND;
        break;
    }
    send_ack(f->type, token, status);
}

/* Decode the bytes received so far; wait while a calibration record is being written. */
static void rx_service(void)
{
    uint8_t budget = 32; /* bound the time spent per loop pass: 32 bytes, one command */
    while (ee_index < 0 && budget-- && Serial.available() > 0) {
        tp_frame_t frame;
        if (tp_rx_push(&rx, (uint8_t)Serial.read(), &frame) == TP_RX_FRAME) {
            handle_command(&frame);
            break; /* the next command waits for the next pass, after the ADC is polled */
        }
    }
}

/* ---- Arduino entry points ------------------------------------------------------- */

void setup(void)
{
    Serial.begin(TP_BAUD);
    tp_rx_init(&rx);
#if TP_BUTTON_PIN >= 0
    pinMode(TP_BUTTON_PIN, INPUT_PULLUP);
#endif
#if TP_LED_PIN >= 0
    pinMode(TP_LED_PIN, OUTPUT);
    digitalWrite(TP_LED_PIN, LOW);
#endif
    load_serial_number();
    adc_begin();
    last_data_ms = millis();
    /* A lone delimiter first: a frame cut short by the reset ends here, as a counted
     * error at the host, instead of swallowing the banner. */
    Serial.write((uint8_t)0x00);
    send_info(); /* the banner: the host learns who we are, and that we restarted */
}

void loop(void)
{
    uint32_t now_ms = millis();
    sample_service(now_ms);
    button_service(now_ms);
    rx_service();
    eeprom_service();
    led_service(now_ms);
    tx_pump();
}
