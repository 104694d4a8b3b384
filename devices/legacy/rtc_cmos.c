/* rtc_cmos.c: an MC146818 RTC whose time is the host's, read through ports 0x70/0x71. */
#include "devices/legacy/rtc_cmos.h"

#include <string.h>

/* MC146818 register numbers (data sheet, "Register address map"). */
enum {
	RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02,
	RTC_MINUTES_ALARM = 0x03, RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,	/* the PC/AT's century byte (ACPI FADT CENTURY) */
};

#define REG_A_UIP	0x80	/* update in progress: time registers about to change */
#define REG_A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */
#define REG_B_SET	0x80	/* the guest is setting the clock: updates stop */
#define REG_B_DM	0x04	/* binary (1) or BCD (0) */
#define REG_B_24H	0x02
#define REG_D_VRT	0x80	/* valid RAM and time: the battery is fine */
#define NMI_DISABLE	0x80	/* bit 7 of port 0x70 */

/* The update cycle takes 244 us before the second ticks (data sheet, "UIP"). */
#define UIP_NS		244000L

static void rtc_host_clock(struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME, now);
}

void rtc_init(struct rtc_cmos *rtc, bool localtime, rtc_clock_fn clock)
{
	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->localtime = localtime;
	rtc->clock = clock ? clock : rtc_host_clock;
	rtc->cmos[RTC_REG_A] = REG_A_DEFAULT;
	rtc->cmos[RTC_REG_B] = REG_B_24H;	/* 24-hour, BCD: what a PC BIOS leaves */
	rtc->cmos[RTC_REG_D] = REG_D_VRT;
}

void rtc_destroy(struct rtc_cmos *rtc)
{
	pthread_mutex_destroy(&rtc->lock);
}

void rtc_set_memory_size(struct rtc_cmos *rtc, uint64_t low_bytes, uint64_t high_bytes)
{
	uint64_t ext_kib = low_bytes > (1 << 20) ? (low_bytes - (1 << 20)) >> 10 : 0;
	uint64_t above16 = low_bytes > (16 << 20) ? (low_bytes - (16 << 20)) >> 16 : 0;
	uint64_t above4g = high_bytes >> 16;

	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	pthread_mutex_lock(&rtc->lock);
	rtc->cmos[0x15] = 640 & 0xff;		/* base memory: 640 KiB */
	rtc->cmos[0x16] = 640 >> 8;
	rtc->cmos[0x17] = rtc->cmos[0x30] = (uint8_t)ext_kib;
	rtc->cmos[0x18] = rtc->cmos[0x31] = (uint8_t)(ext_kib >> 8);
	rtc->cmos[0x34] = (uint8_t)above16;
	rtc->cmos[0x35] = (uint8_t)(above16 >> 8);
	rtc->cmos[0x5b] = (uint8_t)above4g;
	rtc->cmos[0x5c] = (uint8_t)(above4g >> 8);
	rtc->cmos[0x5d] = (uint8_t)(above4g >> 16);
	pthread_mutex_unlock(&rtc->lock);
}

static uint8_t to_bcd(unsigned int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned int from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Encodes a value as register B asks: binary or BCD. */
static uint8_t rtc_encode(const struct rtc_cmos *rtc, unsigned int v)
{
	return (rtc->cmos[RTC_REG_B] & REG_B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned int rtc_decode(const struct rtc_cmos *rtc, uint8_t v)
{
	return (rtc->cmos[RTC_REG_B] & REG_B_DM) ? v : from_bcd(v);
}

/* The guest's wall-clock time now, as broken-down fields. */
static void rtc_guest_tm(const struct rtc_cmos *rtc, struct tm *tm, long *nsec)
{
	struct timespec now;
	time_t t;

	rtc->clock(&now);
	t = now.tv_sec + rtc->offset;
	if (rtc->localtime)
		localtime_r(&t, tm);
	else
		gmtime_r(&t, tm);
	*nsec = now.tv_nsec;
}

static uint8_t rtc_hours(const struct rtc_cmos *rtc, int hour)
{
	uint8_t pm;

	if (rtc->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_encode(rtc, (unsigned int)hour);
	/* 12-hour mode: 12, 1..11, with bit 7 for PM */
	pm = hour >= 12 ? 0x80 : 0;
	hour %= 12;
	return (uint8_t)(rtc_encode(rtc, hour ? (unsigned int)hour : 12) | pm);
}

static uint8_t rtc_read(struct rtc_cmos *rtc, uint8_t reg)
{
	struct tm tm;
	long nsec;
	uint8_t v;

	if (reg > RTC_YEAR && reg != RTC_REG_A && reg != RTC_REG_C && reg != RTC_CENTURY)
		return rtc->cmos[reg];
	if (reg == RTC_REG_C) {
		v = rtc->cmos[RTC_REG_C];	/* interrupt flags: reading clears them */
		rtc->cmos[RTC_REG_C] = 0;
		return v;
	}
	rtc_guest_tm(rtc, &tm, &nsec);
	switch (reg) {
	case RTC_SECONDS:	return rtc_encode(rtc, (unsigned int)tm.tm_sec);
	case RTC_MINUTES:	return rtc_encode(rtc, (unsigned int)tm.tm_min);
	case RTC_HOURS:		return rtc_hours(rtc, tm.tm_hour);
	case RTC_DAY_OF_WEEK:	return rtc_encode(rtc, (unsigned int)tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:	return rtc_encode(rtc, (unsigned int)tm.tm_mday);
	case RTC_MONTH:		return rtc_encode(rtc, (unsigned int)tm.tm_mon + 1);
	case RTC_YEAR:		return rtc_encode(rtc, (unsigned int)tm.tm_year % 100);
	case RTC_CENTURY:	return rtc_encode(rtc, (unsigned int)(tm.tm_year + 1900) / 100);
	case RTC_REG_A:
		/*
		 * UIP is set only in the last 244 us of each second, as on the
		 * real part: a guest polling for "UIP clear" reads it once.
		 */
		v = rtc->cmos[RTC_REG_A] & 0x7f;
		if (!(rtc->cmos[RTC_REG_B] & REG_B_SET) && nsec >= 1000000000L - UIP_NS)
			v |= REG_A_UIP;
		return v;
	default:		/* alarm registers */
		return rtc->cmos[reg];
	}
}

/* When the guest ends a clock update (SET 1 -> 0), the time it wrote becomes the offset. */
static void rtc_commit_guest_time(struct rtc_cmos *rtc)
{
	struct timespec now;
	struct tm tm = { 0 };
	unsigned int hour = rtc_decode(rtc, rtc->cmos[RTC_HOURS] & 0x7f);
	time_t t;

	if (!(rtc->cmos[RTC_REG_B] & REG_B_24H)) {	/* 12-hour: 12 AM is 0, PM adds 12 */
		hour %= 12;
		if (rtc->cmos[RTC_HOURS] & 0x80)
			hour += 12;
	}
	tm.tm_sec = (int)rtc_decode(rtc, rtc->cmos[RTC_SECONDS]);
	tm.tm_min = (int)rtc_decode(rtc, rtc->cmos[RTC_MINUTES]);
	tm.tm_hour = (int)hour;
	tm.tm_mday = (int)rtc_decode(rtc, rtc->cmos[RTC_DAY_OF_MONTH]);
	tm.tm_mon = (int)rtc_decode(rtc, rtc->cmos[RTC_MONTH]) - 1;
	tm.tm_year = (int)(rtc_decode(rtc, rtc->cmos[RTC_CENTURY]) * 100 +
			   rtc_decode(rtc, rtc->cmos[RTC_YEAR])) - 1900;
	tm.tm_isdst = -1;
	/* GUEST: garbage dates make mktime/timegm return -1: then keep the old offset. */
	t = rtc->localtime ? mktime(&tm) : timegm(&tm);
	if (t == (time_t)-1)
		return;
	rtc->clock(&now);
	rtc->offset = (int64_t)t - now.tv_sec;
}

/* Snapshot the running time into the registers when the guest starts an update (SET 0 -> 1). */
static void rtc_latch_time(struct rtc_cmos *rtc)
{
	static const uint8_t regs[] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
					RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY };
	size_t i;

	for (i = 0; i < sizeof(regs); i++)
		rtc->cmos[regs[i]] = rtc_read(rtc, regs[i]);
}

static void rtc_write(struct rtc_cmos *rtc, uint8_t reg, uint8_t v)
{
	bool was_set = rtc->cmos[RTC_REG_B] & REG_B_SET;

	switch (reg) {
	case RTC_REG_A:
		rtc->cmos[reg] = v & 0x7f;		/* UIP is read-only */
		break;
	case RTC_REG_B:
		if (!was_set && (v & REG_B_SET))
			rtc_latch_time(rtc);
		rtc->cmos[reg] = v;
		if (was_set && !(v & REG_B_SET))
			rtc_commit_guest_time(rtc);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;					/* read-only */
	default:
		rtc->cmos[reg] = v;	/* time registers count only while SET is on */
		break;
	}
}

bool rtc_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct rtc_cmos *rtc = opaque;

	/* Byte ports: a wider access uses its first byte and reads ones above it. */
	if (!is_write && size > 1)
		memset(data + 1, 0xff, size - 1);
	pthread_mutex_lock(&rtc->lock);
	if (offset == 0) {
		if (is_write)
			rtc->index = data[0] & (uint8_t)~NMI_DISABLE;
		else
			data[0] = 0xff;		/* the index port is write-only */
	} else if (is_write) {
		rtc_write(rtc, rtc->index, data[0]);
	} else {
		data[0] = rtc_read(rtc, rtc->index);
	}
	pthread_mutex_unlock(&rtc->lock);
	return true;
}
