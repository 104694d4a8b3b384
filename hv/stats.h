/* stats.h: the counters a virtio-path benchmark needs, per vCPU, device and queue (--stats, hvctl stats). */
#ifndef HV_STATS_H
#define HV_STATS_H

#include <jansson.h>
#include <stdio.h>

struct vm;

/*
 * A snapshot of the running (or just stopped) VM: VM exits per vCPU and per
 * reason; per virtio device: its kind and PCI slot, per queue kicks
 * (notifications), interrupts, chains popped/used and interrupts suppressed,
 * device totals (requests, bytes read/written, errors), and its backend's
 * submissions/completions (io_uring for blk, reads/writes for net).  Any
 * thread; takes each device's lock briefly.  Caller json_decref()s it.
 * The keys are documented in docs/control.md ("stats").
 */
json_t *stats_json(struct vm *vm);

/* The same, as a readable table (hvrun --stats prints it on stderr at exit). */
void stats_print(struct vm *vm, FILE *out);

#endif
