/*
 * adc_hx711.cpp - HX711 driver behind adc.h (24-bit bridge ADC, 10 or 80 SPS).
 *
 * Data-ready is DOUT going low. A read clocks 24 data bits out on PD_SCK, then 1-3
 * more pulses select the channel and gain of the *next* conversion: 25 = A/128,
 * 26 = B/32, 27 = A/64. PD_SCK held high for more than 60 us powers the chip down,
 * so the bit-bang runs with interrupts off (about 60 us at 16 MHz).
 */
#include <Arduino.h>

#include "adc.h"
#include "config.h"
#include "frame.h"

#if TP_ADC == TP_ADC_HX711

/* PD_SCK pulses per read, indexed by gain code (0 = A/128, 1 = A/64, 2 = B/32). */
static const uint8_t PULSES[3] = {25, 27, 26};

static volatile uint8_t *dout_in;
static uint8_t dout_mask;
static volatile uint8_t *sck_out;
static uint8_t sck_mask;

static uint8_t gain_asked;   /* pulses of the next read select this for the conversion after */
static uint8_t gain_ready;   /* gain of the conversion that will be read next */
static uint16_t rate_sps;
static uint32_t last_t_us;
static uint8_t have_last;

void adc_begin(void)
{
    dout_in = portInputRegister(digitalPinToPort(HX711_DOUT_PIN));
    dout_mask = digitalPinToBitMask(HX711_DOUT_PIN);
    sck_out = portOutputRegister(digitalPinToPort(HX711_SCK_PIN));
    sck_mask = digitalPinToBitMask(HX711_SCK_PIN);
    pinMode(HX711_DOUT_PIN, INPUT_PULLUP); /* a loose DOUT reads "not ready", never data */
    digitalWrite(HX711_SCK_PIN, LOW); /* PD_SCK low powers the HX711 up */
    pinMode(HX711_SCK_PIN, OUTPUT);
#if HX711_RATE_PIN >= 0
    rate_sps = HX711_BOOT_SPS;
    digitalWrite(HX711_RATE_PIN, rate_sps == 80 ? HIGH : LOW);
    pinMode(HX711_RATE_PIN, OUTPUT);
#else
    rate_sps = HX711_FIXED_SPS;
#endif
    gain_ready = 0; /* after power-up the HX711 converts channel A at gain 128 */
    gain_asked = HX711_BOOT_GAIN;
    have_last = 0;
}

/* Clock one conversion out; interrupts stay off so PD_SCK is never high for long. */
static int32_t shift_in(uint8_t pulses)
{
    uint32_t v = 0;
    uint8_t sreg = SREG;
    cli();
    for (uint8_t i = 0; i < pulses; i++) {
        *sck_out |= sck_mask;
        delayMicroseconds(1); /* PD_SCK high >= 0.2 us; DOUT valid 0.1 us after the edge */
        if (i < 24)
            v = (v << 1) | ((*dout_in & dout_mask) ? 1u : 0u);
        *sck_out &= (uint8_t)~sck_mask;
        delayMicroseconds(1);
    }
    SREG = sreg;
    if (v & 0x800000UL)
        v |= 0xFF000000UL; /* sign-extend the 24-bit two's complement */
    return (int32_t)v;
}

uint8_t adc_poll(adc_reading_t *reading)
{
    if (*dout_in & dout_mask)
        return 0; /* DOUT high: conversion in progress */
    uint32_t now = micros();
    int32_t raw = shift_in(PULSES[gain_asked]);
    reading->raw = raw;
    reading->t_us = now;
    reading->gain = gain_ready;
    reading->saturated = raw == 0x7FFFFFL || raw == -0x800000L;
    reading->missed = 0;
    gain_ready = gain_asked;
    if (have_last) {
        /* The HX711 has no overrun flag: infer lost conversions from the time since
         * the last one, allowing half a period of oscillator and polling jitter. */
        uint32_t period = 1000000UL / rate_sps;
        uint32_t dt = now - last_t_us;
        if (dt > period + period / 2) {
            uint32_t lost = (dt + period / 2) / period - 1;
            reading->missed = lost > 255 ? 255 : (uint8_t)lost;
        }
    }
    last_t_us = now;
    have_last = 1;
    return 1;
}

void adc_resync(void)
{
    have_last = 0;
}

uint8_t adc_set_rate(uint16_t sps)
{
    if (sps == 0)
        return TP_BAD_VALUE;
    if (sps != 10 && sps != 80)
        return TP_UNSUPPORTED; /* the HX711 has exactly two rates */
#if HX711_RATE_PIN >= 0
    digitalWrite(HX711_RATE_PIN, sps == 80 ? HIGH : LOW);
    rate_sps = sps;
    have_last = 0;
    return TP_OK;
#else
    return sps == rate_sps ? TP_OK : TP_UNSUPPORTED;
#endif
}

uint8_t adc_set_gain(uint8_t gain)
{
    if (gain > 2)
        return TP_BAD_VALUE;
    gain_asked = gain;
    return TP_OK;
}

uint16_t adc_rate_sps(void)
{
    return rate_sps;
}

uint8_t adc_gain(void)
{
    return gain_asked;
}

uint16_t adc_caps(void)
{
#if HX711_RATE_PIN >= 0
    return TP_CAP_SET_RATE | TP_CAP_SET_GAIN;
#else
    return TP_CAP_SET_GAIN;
#endif
}

uint8_t adc_id(void)
{
    return TP_ADC_HX711;
}

#endif /* TP_ADC == TP_ADC_HX711 */
