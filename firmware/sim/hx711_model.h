/*
 * hx711_model.h - an HX711 (and the probe button) on the GPIO pins of a simulated
 * ATmega328P, fed from a waveform: one conversion per line, "counts [button]".
 *
 * Faithful in the ways the firmware can get wrong: data-ready on DOUT low, 24 bits
 * shifted out MSB first on PD_SCK rising edges, 1-3 extra pulses selecting the gain of
 * the *next* conversion, power-down when PD_SCK stays high for more than 60 us,
 * unread conversions overwritten by the next one, RATE pin choosing 10 or 80 SPS.
 * The gain scales the waveform: A/128 gives the counts as written, A/64 half of them,
 * B/32 a quarter (arithmetic shift), so a test can see which gain a frame came from.
 */
#ifndef TPFORCE_HX711_MODEL_H
#define TPFORCE_HX711_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <sim_avr.h>
#include <sim_irq.h>

typedef struct {
    uint64_t produced;     /* conversions completed */
    uint64_t read;         /* conversions whose 24 bits were clocked out */
    uint64_t overwritten;  /* conversions replaced before anyone read them */
    uint64_t collisions;   /* a conversion completed in the middle of a read */
    uint64_t power_downs;  /* PD_SCK high for more than 60 us */
    uint64_t stray_pulses; /* PD_SCK pulses while no data was ready */
    uint64_t short_reads;  /* reads that ended before the 25th pulse */
} hx711_stats_t;

typedef enum { HX_OFF, HX_CONVERTING, HX_READY, HX_SHIFTING } hx711_state_t;

typedef struct {
    avr_t *avr;
    /* wiring: bit numbers on port D (Arduino D0-D7); rate_bit or button_bit may be -1 */
    int dout_bit, sck_bit, rate_bit, button_bit;
    int fixed_sps; /* rate when the RATE pin is not driven by the MCU */
    avr_irq_t *dout_irq, *button_irq;

    /* waveform */
    int32_t *counts;
    uint8_t *button;
    size_t n, next;

    /* chip state */
    hx711_state_t state;
    uint32_t latched;       /* 24-bit word being shifted out */
    uint8_t latched_gain;   /* gain code of the latched conversion */
    uint8_t next_gain;      /* gain code of the next conversion */
    int pulses;             /* PD_SCK pulses in the current read */
    avr_cycle_count_t sck_rise;
    uint8_t sck_level, rate_level, ddr;
    uint8_t dout_level, button_level;

    hx711_stats_t stats;
} hx711_t;

/* Load a waveform file; returns 0, or -1 with a message on stderr. */
int hx711_load_waveform(hx711_t *hx, const char *path);

/* Attach to the AVR's port D; call once after avr_init/avr_load_firmware. */
void hx711_attach(hx711_t *hx, avr_t *avr);

/* The MCU was reset: the chip loses power with it and waits to be powered up again. */
void hx711_reset(hx711_t *hx);

#endif /* TPFORCE_HX711_MODEL_H */
