/*
 * config.h - every pin and option of the tpforce probe firmware, in one place.
 *
 * Edit here for your wiring; the #error guards below catch combinations that cannot
 * work. Defaults: Arduino Uno/Nano (ATmega328P, 16 MHz) with an HX711 breakout.
 */
#ifndef TPFORCE_CONFIG_H
#define TPFORCE_CONFIG_H

/* ---- firmware identity (INFO frame) -------------------------------------------- */
#define TP_FW_MAJOR 0
#define TP_FW_MINOR 1
#define TP_FW_PATCH 0

/* Board codes (PROTOCOL.md, INFO.board). */
#define TP_BOARD_ATMEGA328P 1
#define TP_BOARD_ESP32 2
#define TP_BOARD_RP2040 3

/* ADC codes (PROTOCOL.md, INFO.adc); the driver file for TP_ADC is compiled in. */
#define TP_ADC_HX711 1
#define TP_ADC_HX71708 2
#define TP_ADC_NAU7802 3
#define TP_ADC_ADS1232 4

#define TP_ADC TP_ADC_HX711

/* ---- serial link --------------------------------------------------------------- */
#define TP_BAUD 115200UL
/* Frames waiting for the UART; when full a frame is dropped, never waited for: a sample
 * shows as a seq gap, any other frame as TP_FLAG_TX_DROPPED on the next sample. */
#define TP_TX_QUEUE_BYTES 192

/* ---- HX711 wiring ---------------------------------------------------------------
 * Keep DOUT and PD_SCK off D2/D3 (INT0/INT1): nothing needs the interrupts, and a
 * level-triggered INT pin held low slows the simulator used by the tests.
 */
#define HX711_DOUT_PIN 4
#define HX711_SCK_PIN 5
/* RATE pin of the HX711 (high = 80 SPS, low = 10 SPS), or -1 if it is hard-wired on
 * the breakout; then HX711_FIXED_SPS must say how it is wired. */
#define HX711_RATE_PIN 6
#define HX711_FIXED_SPS 80
/* Rate at boot when the RATE pin is wired: 10 or 80. */
#define HX711_BOOT_SPS 80
/* Gain code at boot: 0 = A/128, 1 = A/64, 2 = B/32. */
#define HX711_BOOT_GAIN 0

/* ---- user interface ------------------------------------------------------------ */
/* Probe button between the pin and GND (internal pull-up); -1 if there is none. */
#define TP_BUTTON_PIN 7
#define TP_BUTTON_DEBOUNCE_MS 20
/* LED for IDENTIFY; -1 if there is none. */
#define TP_LED_PIN 13
#define TP_IDENTIFY_BLINK_MS 125

/* ---- calibration record in EEPROM ---------------------------------------------- */
#define TP_EEPROM_CAL_ADDR 0

/* ---- guards -------------------------------------------------------------------- */
#if defined(__AVR_ATmega328P__)
#define TP_BOARD TP_BOARD_ATMEGA328P
#else
#error "tpforce_probe: this board is not supported yet (ATmega328P: Uno, Nano); add a TP_BOARD entry"
#endif

#if defined(F_CPU) && F_CPU != 16000000UL
#error "tpforce_probe: the timings assume a 16 MHz clock (Uno, Nano 5 V)"
#endif

#if TP_ADC != TP_ADC_HX711
#error "tpforce_probe: only the HX711 driver (adc_hx711.cpp) exists; write a driver for this ADC"
#endif

#if HX711_DOUT_PIN == HX711_SCK_PIN
#error "tpforce_probe: HX711 DOUT and PD_SCK must be different pins"
#endif

#if HX711_DOUT_PIN == 0 || HX711_DOUT_PIN == 1 || HX711_SCK_PIN == 0 || HX711_SCK_PIN == 1
#error "tpforce_probe: D0/D1 are the serial port"
#endif

#if HX711_RATE_PIN < 0 && HX711_FIXED_SPS != 10 && HX711_FIXED_SPS != 80
#error "tpforce_probe: an HX711 with a hard-wired RATE pin runs at 10 or 80 SPS"
#endif

#if HX711_RATE_PIN >= 0 && HX711_BOOT_SPS != 10 && HX711_BOOT_SPS != 80
#error "tpforce_probe: HX711_BOOT_SPS must be 10 or 80"
#endif

#if HX711_BOOT_GAIN < 0 || HX711_BOOT_GAIN > 2
#error "tpforce_probe: HX711_BOOT_GAIN must be 0 (A/128), 1 (A/64) or 2 (B/32)"
#endif

#if TP_BUTTON_PIN >= 0 && (TP_BUTTON_PIN == HX711_DOUT_PIN || TP_BUTTON_PIN == HX711_SCK_PIN)
#error "tpforce_probe: the button shares a pin with the HX711"
#endif

#if TP_TX_QUEUE_BYTES < 2 * 66 || TP_TX_QUEUE_BYTES > 255
#error "tpforce_probe: TP_TX_QUEUE_BYTES must hold two full frames and fit a uint8_t index"
#endif

#endif /* TPFORCE_CONFIG_H */
