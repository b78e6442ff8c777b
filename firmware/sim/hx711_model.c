/*
 * hx711_model.c - the simulated HX711 and button; see hx711_model.h.
 */
#include "hx711_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avr_ioport.h>
#include <sim_cycle_timers.h>
#include <sim_io.h>

#define POWER_DOWN_US 60
/* Output settling after power-up: 50 ms at 80 SPS, 400 ms at 10 SPS (4 periods). */
#define SETTLE_PERIODS 4

int hx711_load_waveform(hx711_t *hx, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        return -1;
    }
    size_t cap = 1024;
    hx->counts = malloc(cap * sizeof *hx->counts);
    hx->button = malloc(cap);
    hx->n = 0;
    char line[256];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == 0)
            continue;
        char *end;
        long v = strtol(p, &end, 0);
        if (end == p) {
            fprintf(stderr, "%s:%u: expected a count\n", path, lineno);
            fclose(fp);
            return -1;
        }
        long b = strtol(end, &p, 0);
        if (p == end)
            b = 0;
        if (v > 0x7FFFFF)
            v = 0x7FFFFF; /* the HX711 saturates at full scale */
        if (v < -0x800000)
            v = -0x800000;
        if (hx->n == cap) {
            cap *= 2;
            hx->counts = realloc(hx->counts, cap * sizeof *hx->counts);
            hx->button = realloc(hx->button, cap);
        }
        hx->counts[hx->n] = (int32_t)v;
        hx->button[hx->n] = b != 0;
        hx->n++;
    }
    fclose(fp);
    return 0;
}

/* Drive the model's outputs (DOUT, button) onto the MCU's input pins. The same levels
 * go in as 'external' pin state, so that a write to PORTD does not override them. */
static void drive_inputs(hx711_t *hx)
{
    uint8_t mask = (uint8_t)(1u << hx->dout_bit);
    uint8_t value = (uint8_t)(hx->dout_level ? mask : 0);
    if (hx->button_bit >= 0) {
        mask |= (uint8_t)(1u << hx->button_bit);
        if (hx->button_level)
            value |= (uint8_t)(1u << hx->button_bit);
    }
    avr_ioport_external_t ext = {.name = 'D', .mask = mask, .value = value};
    avr_ioctl(hx->avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &ext);
    avr_raise_irq(hx->dout_irq, hx->dout_level);
    if (hx->button_irq)
        avr_raise_irq(hx->button_irq, hx->button_level);
}

static void set_dout(hx711_t *hx, uint8_t level)
{
    if (hx->dout_level != level) {
        hx->dout_level = level;
        drive_inputs(hx);
    }
}

static int rate_sps(const hx711_t *hx)
{
    if (hx->rate_bit >= 0 && (hx->ddr & (1u << hx->rate_bit)))
        return hx->rate_level ? 80 : 10;
    return hx->fixed_sps;
}

static avr_cycle_count_t period_cycles(const hx711_t *hx)
{
    return hx->avr->frequency / (avr_cycle_count_t)rate_sps(hx);
}

/* Pulses per read -> gain code of the next conversion. */
static uint8_t gain_of_pulses(int pulses)
{
    return pulses == 26 ? 2 : pulses >= 27 ? 1 : 0;
}

static avr_cycle_count_t on_conversion(avr_t *avr, avr_cycle_count_t when, void *param)
{
    hx711_t *hx = param;
    (void)avr;
    if (hx->state == HX_OFF)
        return 0;
    if (hx->state == HX_SHIFTING) {
        if (hx->pulses < 25) {
            /* Caught mid-read: this conversion is lost, the read goes on. */
            hx->stats.collisions++;
            fprintf(stderr, "hx711: conversion completed during a read (%d pulses)\n",
                    hx->pulses);
            return when + period_cycles(hx);
        }
        hx->next_gain = gain_of_pulses(hx->pulses);
    } else if (hx->state == HX_READY) {
        hx->stats.overwritten++;
    }
    /* Latch the next waveform value (the last one repeats once the file is done). */
    size_t i = hx->next < hx->n ? hx->next : hx->n - 1;
    if (hx->next < hx->n)
        hx->next++;
    int32_t v = hx->counts[i] >> (hx->next_gain == 0 ? 0 : hx->next_gain == 1 ? 1 : 2);
    hx->latched = (uint32_t)v & 0xFFFFFFu;
    hx->latched_gain = hx->next_gain;
    hx->pulses = 0;
    hx->state = HX_READY;
    hx->stats.produced++;
    /* The button is sampled with the waveform line; active low (pull-up, switch to GND). */
    uint8_t button_level = hx->button[i] ? 0 : 1;
    if (hx->button_level != button_level) {
        hx->button_level = button_level;
        drive_inputs(hx);
    }
    set_dout(hx, 0);
    return when + period_cycles(hx);
}

static void power_up(hx711_t *hx)
{
    hx->state = HX_CONVERTING;
    hx->next_gain = 0; /* channel A, gain 128 after power-up */
    hx->pulses = 0;
    set_dout(hx, 1);
    avr_cycle_timer_cancel(hx->avr, on_conversion, hx);
    avr_cycle_timer_register(hx->avr, SETTLE_PERIODS * period_cycles(hx), on_conversion, hx);
}

static void power_down(hx711_t *hx)
{
    hx->state = HX_OFF;
    avr_cycle_timer_cancel(hx->avr, on_conversion, hx);
    set_dout(hx, 1);
}

static void on_sck(avr_irq_t *irq, uint32_t value, void *param)
{
    hx711_t *hx = param;
    (void)irq;
    uint8_t level = value & 1;
    if (level == hx->sck_level)
        return;
    hx->sck_level = level;
    if (level) {
        hx->sck_rise = hx->avr->cycle;
        switch (hx->state) {
        case HX_READY:
            hx->state = HX_SHIFTING;
            hx->pulses = 0;
            /* fall through */
        case HX_SHIFTING:
            hx->pulses++;
            if (hx->pulses <= 24) {
                set_dout(hx, (hx->latched >> (24 - hx->pulses)) & 1);
                if (hx->pulses == 24)
                    hx->stats.read++;
            } else if (hx->pulses == 25) {
                set_dout(hx, 1); /* the 25th pulse pulls DOUT high until the next data */
            }
            break;
        case HX_CONVERTING:
            hx->stats.stray_pulses++;
            break;
        case HX_OFF:
            break;
        }
        return;
    }
    /* Falling edge: was PD_SCK high long enough to power the chip down? */
    avr_cycle_count_t high = hx->avr->cycle - hx->sck_rise;
    if (hx->state != HX_OFF && high * 1000000u > (avr_cycle_count_t)POWER_DOWN_US * hx->avr->frequency) {
        hx->stats.power_downs++;
        fprintf(stderr, "hx711: PD_SCK high for %llu us: powered down\n",
                (unsigned long long)(high * 1000000u / hx->avr->frequency));
        if (hx->state == HX_SHIFTING && hx->pulses < 25)
            hx->stats.short_reads++;
        power_down(hx);
        power_up(hx); /* PD_SCK is low again: the chip restarts */
    }
}

static void on_rate(avr_irq_t *irq, uint32_t value, void *param)
{
    hx711_t *hx = param;
    (void)irq;
    hx->rate_level = value & 1;
}

/* DDRD written: PD_SCK becoming an output (driven low) powers the chip up. */
static void on_ddr(avr_irq_t *irq, uint32_t value, void *param)
{
    hx711_t *hx = param;
    (void)irq;
    uint8_t was = hx->ddr;
    hx->ddr = (uint8_t)value;
    uint8_t sck = (uint8_t)(1u << hx->sck_bit);
    if ((hx->ddr & sck) && !(was & sck) && !hx->sck_level)
        power_up(hx);
    else if (!(hx->ddr & sck) && (was & sck))
        power_down(hx);
}

void hx711_attach(hx711_t *hx, avr_t *avr)
{
    hx->avr = avr;
    avr_irq_t *port = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 0);
    hx->dout_irq = port + hx->dout_bit;
    hx->button_irq = hx->button_bit >= 0 ? port + hx->button_bit : NULL;
    avr_irq_register_notify(port + hx->sck_bit, on_sck, hx);
    if (hx->rate_bit >= 0)
        avr_irq_register_notify(port + hx->rate_bit, on_rate, hx);
    avr_irq_register_notify(port + IOPORT_IRQ_DIRECTION_ALL, on_ddr, hx);
    hx->state = HX_OFF;
    hx->dout_level = 1;
    hx->button_level = 1;
    drive_inputs(hx);
}

void hx711_reset(hx711_t *hx)
{
    /* avr_reset() cleared DDRD and all cycle timers without telling anyone. */
    avr_irq_t *port = avr_io_getirq(hx->avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 0);
    hx->state = HX_OFF;
    hx->ddr = 0;
    hx->sck_level = 0;
    port[IOPORT_IRQ_DIRECTION_ALL].value = 0; /* so the firmware's next DDRD write notifies */
    port[hx->sck_bit].value = 0;
    /* The reset also cleared PIND: make the next raise of each input a change. */
    hx->dout_irq->value = 0;
    if (hx->button_irq)
        hx->button_irq->value = !hx->button_level;
    hx->dout_level = 1;
    drive_inputs(hx);
}
