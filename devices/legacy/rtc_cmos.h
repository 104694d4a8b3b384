/* rtc_cmos.h: the PC's MC146818 real-time clock and CMOS memory (ports 0x70/0x71). */
#ifndef DEV_RTC_CMOS_H
#define DEV_RTC_CMOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RTC_BASE_PORT	0x70
#define RTC_NR_PORTS	2
#define RTC_CMOS_SIZE	128

/* Where the clock's time comes from: tests replace it. */
typedef void (*rtc_clock_fn)(struct timespec *now);

struct rtc_cmos {
	pthread_mutex_t lock;
	uint8_t index;			/* last value written to port 0x70, without the NMI bit */
	uint8_t cmos[RTC_CMOS_SIZE];	/* registers A-D and the CMOS bytes; time is computed */
	bool localtime;			/* --rtc localtime: the guest's clock shows local time */
	int64_t offset;			/* seconds the guest set its clock away from the host's */
	rtc_clock_fn clock;
};

void rtc_init(struct rtc_cmos *rtc, bool localtime, rtc_clock_fn clock);
void rtc_destroy(struct rtc_cmos *rtc);

/*
 * Records the memory size where PC firmware and old loaders look for it:
 * bytes 0x15-0x18, 0x30-0x31 (KiB), 0x34-0x35 (64 KiB units above 16 MiB),
 * 0x5b-0x5d (64 KiB units above 4 GiB).
 */
void rtc_set_memory_size(struct rtc_cmos *rtc, uint64_t low_bytes, uint64_t high_bytes);

/* The port handler (hv/base/bus.h) for ports 0x70-0x71. */
bool rtc_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

#endif
