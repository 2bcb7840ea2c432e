/*
 * sampler.h - the Profile panel's sampling profiler: its signal, timer and per-thread buffers
 * (sampler.c). Private to panels/profile/.
 */
#ifndef DTB_SAMPLER_H
#define DTB_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

/* Installs the sampling signal's handler for the process (counted: once per started toolbar).
 * want_signo 0 picks the highest real-time signal nobody handles. Never fails the toolbar: when
 * the profiler cannot run, dtbi_sampler_off_reason says why. Returns 0. */
int dtbi_sampler_install(int want_signo);
void dtbi_sampler_uninstall(void);
/* The signal in use, 0 when none. */
int dtbi_sampler_signal(void);
/* NULL when the profiler can sample now; else why not, written into buf. */
const char *dtbi_sampler_off_reason(char *buf, size_t len);

/* Arms the calling thread's timer: samples its stack rate_hz times a second of its CPU time
 * (wall: of real time), up to max_depth frames each. Allocates the thread's buffer and timer
 * the first time. Returns 0, or -1 (no signal, out of memory, timer refused). */
int dtbi_sampler_start(int rate_hz, int wall, int max_depth);
/* Disarms it. Returns the thread's buffer (valid until the thread's next start): *words
 * words of samples, each [depth, weight, ip (leaf first) x depth]; weight is the intervals the
 * sample stands for (the kernel checks CPU-time timers at its tick, so one signal may arrive
 * for several). *samples sums the weights, *signals counts the samples. */
const uintptr_t *dtbi_sampler_stop(size_t *words, unsigned *samples, unsigned *signals,
                                   unsigned *dropped);

#endif
