/*
 * counters.h - hardware performance counters of the handler's thread (counters.c):
 * instructions, cycles, cache misses and branch misses, read with perf_event_open around each
 * call into the app's handler. Internal (dtbi_), not installed.
 */
#ifndef DTB_COUNTERS_H
#define DTB_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define DTBI_COUNTERS_MAX 4

/* A group of counters of one thread, user space only, counting from the moment it is opened. */
struct dtbi_counter_set {
    int fd[DTBI_COUNTERS_MAX];
    int n;
};

/* Opens a group of n (1..DTBI_COUNTERS_MAX) counters of the calling thread: type[i] and
 * config[i] as perf_event_attr names them (PERF_TYPE_HARDWARE, PERF_COUNT_HW_...). Returns 0,
 * or -1 with *err set to the errno of the refusal. */
int dtbi_counters_open(struct dtbi_counter_set *cs, const uint32_t *type, const uint64_t *config,
                       int n, int *err);
/* Reads the group at once (one read): vals[i] for each counter, scaled when the kernel had to
 * share the hardware with other groups (then *scaled is 1). Returns 0, or -1. */
int dtbi_counters_read(const struct dtbi_counter_set *cs, uint64_t *vals, int *scaled);
void dtbi_counters_close(struct dtbi_counter_set *cs);

/* The handler thread's hardware group: instructions, cycles, cache misses, branch misses.
 * Opened on a thread's first call (closed when the thread exits); when the kernel refuses, no
 * thread tries again and dtb_hw_counters_off_reason says why. Returns 0 with vals filled, or -1. */
int dtbi_counters_thread_read(uint64_t vals[DTBI_COUNTERS_MAX], int *scaled);
/* dtb_hw_counters_off_reason (debugtoolbar/panel.h) says why they are off. */

#endif
