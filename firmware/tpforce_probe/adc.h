/*
 * adc.h - the small interface between the sketch and a load-cell ADC driver.
 *
 * One driver file (adc_hx711.cpp, ...) implements it, selected by TP_ADC in config.h;
 * porting to another ADC or board means writing one new driver file. The driver
 * returns raw counts exactly as converted: no averaging, no offset.
 */
#ifndef TPFORCE_ADC_H
#define TPFORCE_ADC_H

#include <stdint.h>

/* One conversion, as read from the ADC. */
typedef struct {
    int32_t raw;       /* counts, sign-extended to 32 bits */
    uint32_t t_us;     /* micros() when the conversion was seen ready */
    uint8_t gain;      /* gain code of *this* conversion (PROTOCOL.md sample flags 3-4) */
    uint8_t saturated; /* the ADC reported full scale */
    uint8_t missed;    /* conversions lost (not read in time) since the previous reading */
} adc_reading_t;

/* Configure the pins and power the ADC up. */
void adc_begin(void);

/* Non-blocking: read a conversion if one is ready, returning 1, else return 0. */
uint8_t adc_poll(adc_reading_t *reading);

/* Forget the timing history, so that a pause (STOP/START) is not reported as missed. */
void adc_resync(void);

/* Ask for an output rate; returns TP_OK, TP_UNSUPPORTED or TP_BAD_VALUE. */
uint8_t adc_set_rate(uint16_t sps);

/* Ask for a gain code; applies to the conversion after the one in progress. */
uint8_t adc_set_gain(uint8_t gain);

uint16_t adc_rate_sps(void); /* the current output rate */
uint8_t adc_gain(void);      /* the gain code last asked for */
uint16_t adc_caps(void);     /* TP_CAP_SET_RATE / TP_CAP_SET_GAIN as this wiring allows */
uint8_t adc_id(void);        /* INFO.adc code */

#endif /* TPFORCE_ADC_H */
