/*
 * tpforce_sim.c - runs the real probe firmware ELF on a simulated ATmega328P (libsimavr)
 * with a modelled HX711 and button, and bridges UART0 to a pseudo-terminal, so that the
 * host software talks to it exactly as to a probe on a USB serial port.
 *
 *   tpforce_sim [options] firmware.elf
 *     -w FILE    waveform: one HX711 conversion per line, "counts [button]" (button 1 =
 *                pressed), '#' starts a comment; the last line repeats when the file ends
 *     -s SPS     HX711 rate when the firmware does not drive the RATE pin (default 80)
 *     -S         the RATE pin is strapped on the board, not wired to the MCU: the HX711
 *                runs at -s SPS whatever the firmware asks (a wiring mistake to catch)
 *     -r         pace the simulation to real time (default: as fast as it goes)
 *     -v         simavr's own log messages too
 *
 * stdout gets one line, "pty /dev/pts/N", then nothing else. stdin takes commands, one
 * per line: "run" starts the MCU (open the pty first: opening flushes unread input),
 * "reset" resets the MCU (EEPROM survives, as on a real chip), "quit" (or end of input)
 * ends the run. A summary of the run goes to stderr at the end.
 *
 * Bytes are never dropped in either direction: the MCU is paused while the pty reader
 * lags, and host bytes enter the UART only as its receive FIFO has room.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_io.h>

#include "hx711_model.h"

#define MCU "atmega328p"
#define FREQUENCY 16000000u
/* Service the pty and stdin every 0.5 ms of simulated time. */
#define SERVICE_CYCLES 8000u
/* Pause the MCU while this many UART bytes wait for the pty reader. */
#define OUT_HIGH_WATER 4096u
/* ATmega328P UCSR0B and its RXEN0 bit: the firmware's receiver is enabled. */
#define UCSR0B_ADDR 0xC1
#define RXEN0_BIT 4

/* Pins of the default firmware/tpforce_probe/config.h, as port D bit numbers. */
#define PIN_DOUT 4
#define PIN_SCK 5
#define PIN_RATE 6
#define PIN_BUTTON 7
/* The LED (Arduino D13) is port B bit 5. */
#define PIN_LED_PORTB 5

typedef struct {
    uint8_t *data;
    size_t len, cap;
} buffer_t;

static void buf_append(buffer_t *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_consume(buffer_t *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static avr_t *avr;
static hx711_t hx = {.dout_bit = PIN_DOUT, .sck_bit = PIN_SCK, .rate_bit = PIN_RATE,
                     .button_bit = PIN_BUTTON, .fixed_sps = 80};
static avr_irq_t *uart_in;
static int uart_xoff;
static buffer_t to_pty, from_pty;
static int master_fd = -1;
static int verbose;
static uint64_t bytes_out, bytes_in, resets, led_toggles;
static uint32_t led_level;

static void on_uart_out(avr_irq_t *irq, uint32_t value, void *param)
{
    uint8_t b = (uint8_t)value;
    (void)irq;
    (void)param;
    buf_append(&to_pty, &b, 1);
    bytes_out++;
}

static void on_uart_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    uart_xoff = value != 0;
}

static void on_uart_xon(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    if (value)
        uart_xoff = 0;
}

static void on_led(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    led_level = value & 1;
    led_toggles++;
}

static void logger(avr_t *a, const int level, const char *format, va_list ap)
{
    (void)a;
    if (verbose || level <= LOG_WARNING)
        vfprintf(stderr, format, ap);
}

/* The firmware never sleeps; if it did, simulated time must not cost real time. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
    (void)a;
    (void)how_long;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Pass host bytes to the UART while its receiver is on and its FIFO has room. */
static void feed_uart(void)
{
    size_t n = 0;
    if (!(avr->data[UCSR0B_ADDR] & (1u << RXEN0_BIT)))
        return; /* receiver off (booting): hold the bytes rather than lose them */
    while (n < from_pty.len && !uart_xoff) {
        avr_raise_irq(uart_in, from_pty.data[n++]);
        bytes_in++;
    }
    if (n)
        buf_consume(&from_pty, n);
}

enum { CMD_NONE, CMD_RUN, CMD_RESET, CMD_QUIT };

/* Read whatever stdin holds; returns the last complete command seen. */
static int read_stdin(void)
{
    static char line[128];
    static size_t len;
    char c;
    int cmd = CMD_NONE;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r == 0)
            return CMD_QUIT; /* end of input: whoever started us is gone */
        if (r < 0)
            return cmd;
        if (c != '\n') {
            if (len + 1 < sizeof line)
                line[len++] = c;
            continue;
        }
        line[len] = 0;
        len = 0;
        if (strcmp(line, "run") == 0)
            cmd = CMD_RUN;
        else if (strcmp(line, "reset") == 0)
            cmd = CMD_RESET;
        else if (strcmp(line, "quit") == 0)
            return CMD_QUIT;
        else if (line[0])
            fprintf(stderr, "tpforce_sim: unknown command '%s' (run, reset, quit)\n", line);
        if (cmd == CMD_RESET)
            return cmd;
    }
}

static void reset_mcu(void)
{
    avr_reset(avr);
    avr->state = cpu_Running;
    hx711_reset(&hx);
    uart_xoff = 0;
    resets++;
}

/*
 * Move bytes between the pty and the UART, and take stdin commands. With `wait`, block
 * until something happens. While the pty reader lags, keep waiting here: the MCU does
 * not run, so nothing is ever dropped.
 */
static int service(int wait)
{
    for (;;) {
        struct pollfd fds[2] = {
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = master_fd, .events = POLLIN | (to_pty.len ? POLLOUT : 0)},
        };
        int blocked = to_pty.len >= OUT_HIGH_WATER;
        if (poll(fds, 2, wait || blocked ? 100 : 0) < 0 && errno != EINTR)
            return CMD_QUIT;
        int cmd = CMD_NONE;
        if (fds[0].revents & (POLLIN | POLLHUP))
            cmd = read_stdin();
        if (fds[1].revents & POLLIN) {
            uint8_t tmp[1024];
            ssize_t r = read(master_fd, tmp, sizeof tmp);
            if (r > 0)
                buf_append(&from_pty, tmp, (size_t)r);
        }
        if (to_pty.len && (fds[1].revents & POLLOUT)) {
            ssize_t w = write(master_fd, to_pty.data, to_pty.len);
            if (w > 0)
                buf_consume(&to_pty, (size_t)w);
        }
        if (cmd != CMD_NONE || (!wait && to_pty.len < OUT_HIGH_WATER))
            return cmd;
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-w waveform] [-s sps] [-S] [-r] [-v] firmware.elf\n", argv0);
}

int main(int argc, char **argv)
{
    const char *waveform = NULL;
    int realtime = 0;
    int opt;
    while ((opt = getopt(argc, argv, "w:s:Srv")) != -1) {
        switch (opt) {
        case 'w': waveform = optarg; break;
        case 's': hx.fixed_sps = atoi(optarg); break;
        case 'S': hx.rate_bit = -1; break;
        case 'r': realtime = 1; break;
        case 'v': verbose = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    if (optind != argc - 1 || (hx.fixed_sps != 10 && hx.fixed_sps != 80)) {
        usage(argv[0]);
        return 2;
    }
    if (waveform) {
        if (hx711_load_waveform(&hx, waveform) < 0 || hx.n == 0) {
            fprintf(stderr, "tpforce_sim: no conversions in %s\n", waveform);
            return 2;
        }
    } else {
        static int32_t zero;
        static uint8_t released;
        hx.counts = &zero;
        hx.button = &released;
        hx.n = 1;
    }

    /* stdout carries only the pty line; libsimavr prints to stdout, so send it to stderr. */
    FILE *control = fdopen(dup(STDOUT_FILENO), "w");
    dup2(STDERR_FILENO, STDOUT_FILENO);
    avr_global_logger_set(logger);

    int slave_fd;
    char pty_name[128];
    if (openpty(&master_fd, &slave_fd, pty_name, NULL, NULL) < 0) {
        perror("openpty");
        return 1;
    }
    struct termios tio;
    tcgetattr(slave_fd, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave_fd, TCSANOW, &tio);
    fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    /* slave_fd stays open: the pty lives on however often the client reopens it. */

    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[optind], &fw) != 0) {
        fprintf(stderr, "tpforce_sim: cannot read %s\n", argv[optind]);
        return 1;
    }
    /* Arduino ELFs carry no MCU name or clock. */
    snprintf(fw.mmcu, sizeof fw.mmcu, "%s", MCU);
    fw.frequency = FREQUENCY;
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (!avr) {
        fprintf(stderr, "tpforce_sim: simavr does not know %s\n", MCU);
        return 1;
    }
    avr_init(avr);
    avr_load_firmware(avr, &fw);
    avr->sleep = no_sleep;

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_POLL_SLEEP | AVR_UART_FLAG_STDIO);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            on_uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                            on_uart_xoff, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                            on_uart_xon, NULL);
    hx711_attach(&hx, avr);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), PIN_LED_PORTB),
                            on_led, NULL);

    fprintf(control, "pty %s\n", pty_name);
    fflush(control);

    /* Wait for "run": the client must have opened the pty before the first byte. */
    int cmd;
    while ((cmd = service(1)) != CMD_RUN) {
        if (cmd == CMD_QUIT)
            return 0;
    }

    double t0 = wall_s();
    avr_cycle_count_t c0 = avr->cycle;
    int status = 0;
    while (cmd != CMD_QUIT) {
        avr_cycle_count_t until = avr->cycle + SERVICE_CYCLES;
        while (avr->cycle < until) {
            int state = avr_run(avr);
            if (state == cpu_Done || state == cpu_Crashed) {
                fprintf(stderr, "tpforce_sim: the MCU %s at cycle %llu\n",
                        state == cpu_Done ? "stopped" : "crashed",
                        (unsigned long long)avr->cycle);
                status = 1;
                cmd = CMD_QUIT;
                break;
            }
        }
        feed_uart();
        cmd = cmd == CMD_QUIT ? cmd : service(0);
        if (cmd == CMD_RESET)
            reset_mcu();
        if (realtime) {
            double ahead = (double)(avr->cycle - c0) / FREQUENCY - (wall_s() - t0);
            if (ahead > 0.002)
                usleep((useconds_t)(ahead * 1e6));
        }
    }
    /* Hand over what the firmware sent before the end, if the reader still takes it. */
    for (int i = 0; i < 20 && to_pty.len; i++)
        service(0);

    double sim_s = (double)(avr->cycle - c0) / FREQUENCY;
    double real_s = wall_s() - t0;
    fprintf(stderr,
            "tpforce_sim: simulated %.3f s in %.3f s wall (%.2fx real time), resets %llu\n"
            "tpforce_sim: uart out %llu bytes, in %llu bytes, led toggles %llu, led %s\n"
            "tpforce_sim: hx711 produced %llu read %llu overwritten %llu collisions %llu "
            "power_downs %llu stray_pulses %llu short_reads %llu\n",
            sim_s, real_s, real_s > 0 ? sim_s / real_s : 0.0, (unsigned long long)resets,
            (unsigned long long)bytes_out, (unsigned long long)bytes_in,
            (unsigned long long)led_toggles, led_level ? "on" : "off",
            (unsigned long long)hx.stats.produced, (unsigned long long)hx.stats.read,
            (unsigned long long)hx.stats.overwritten, (unsigned long long)hx.stats.collisions,
            (unsigned long long)hx.stats.power_downs, (unsigned long long)hx.stats.stray_pulses,
            (unsigned long long)hx.stats.short_reads);
    close(slave_fd);
    close(master_fd);
    return status;
}
