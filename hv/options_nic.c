/* options_nic.c: the NIC options: -t NAME, --net tap=NAME,..., --net user,hostfwd=..., --mac. */
#include "hv/options.h"
#include "hv/options_priv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/backend.h"

/* Why s is not a usable NIC MAC, or NULL when it is (then mac holds it). */
static const char *mac_problem(const char *s, uint8_t mac[6])
{
	static const uint8_t zero[6];
	unsigned int i;

	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    p[2] != (i == 5 ? '\0' : ':'))
			return "not a MAC address (give six hex bytes, e.g. ba:ad:00:ca:fe:02)";
		mac[i] = (uint8_t)strtoul((char[3]){ p[0], p[1], '\0' }, NULL, 16);
	}
	/* IEEE 802: bit 0 of the first byte marks a group (multicast) address. */
	if (mac[0] & 1)
		return "a multicast address cannot be a NIC's MAC";
	if (!memcmp(mac, zero, 6))
		return "the all-zero address cannot be a NIC's MAC";
	return NULL;
}

int options_parse_mac(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
	const char *why = mac_problem(s, mac);

	if (why) {
		snprintf(err, errlen, "%s: %s", s, why);
		return -EINVAL;
	}
	return 0;
}

/* A TAP name as the kernel takes it (dev_valid_name), limited to plain characters. */
static bool tap_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == len;
}

/*
 * The default MAC: the teaching guide's ba:ad:00:ca:fe:NN for a TAP whose
 * name ends in a number NN <= 255 (tap2 -> 02, tap10 -> 0a), else QEMU's
 * 52:54:00:12:34:56 plus the NIC's position.
 */
static void default_mac(struct hv_nic *n, unsigned int index)
{
	static const uint8_t tap_oui[5] = { 0xba, 0xad, 0x00, 0xca, 0xfe };
	static const uint8_t qemu_oui[5] = { 0x52, 0x54, 0x00, 0x12, 0x34 };
	size_t len = strlen(n->tap.ifname), digits = 0;
	unsigned long nr;

	while (digits < len && isdigit((unsigned char)n->tap.ifname[len - 1 - digits]))
		digits++;
	if (n->kind == HV_NIC_TAP && digits > 0 && digits <= 3 &&
	    (nr = strtoul(n->tap.ifname + len - digits, NULL, 10)) <= 255) {
		memcpy(n->mac, tap_oui, 5);
		n->mac[5] = (uint8_t)nr;
	} else {
		memcpy(n->mac, qemu_oui, 5);
		n->mac[5] = (uint8_t)(0x56 + index);
	}
}

/* Splits "[ADDR:]PORT" (the last ':' separates) and parses both; NULL or why not. */
static const char *addr_port(char *s, const char *what, uint32_t *addr, uint16_t *port)
{
	char *colon = strrchr(s, ':'), *p = colon ? colon + 1 : s;
	struct in_addr in;
	unsigned long v;

	*addr = 0;
	if (colon) {
		*colon = '\0';
		if (s[0] && inet_pton(AF_INET, s, &in) != 1)
			return !strcmp(what, "host") ? "the host address is not an IPv4 address"
						     : "the guest address is not an IPv4 address";
		if (s[0])
			*addr = in.s_addr;
	}
	if (options_parse_uint(p, 65535, &v) || v == 0)
		return !strcmp(what, "host") ? "the host port must be 1 to 65535"
					     : "the guest port must be 1 to 65535";
	*port = (uint16_t)v;
	return NULL;
}

/*
 * QEMU's rule: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT.  Also
 * takes the teaching guide's short "tcp:5555-:22" (no host address).
 */
static const char *parse_hostfwd(const char *rule, size_t len, struct slirp_hostfwd *f)
{
	char buf[96], *host, *guest;
	const char *why;
	uint32_t net;

	memset(f, 0, sizeof(*f));
	if (len >= sizeof(buf))
		return "the rule is too long";
	memcpy(buf, rule, len);
	buf[len] = '\0';
	guest = strchr(buf, '-');
	if (!guest)
		return "give [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT";
	*guest++ = '\0';
	host = buf;
	if (!strncmp(host, "tcp:", 4) || !strncmp(host, "udp:", 4)) {
		f->udp = host[0] == 'u';
		host += 4;
	} else if (host[0] == ':') {
		host++;			/* QEMU: an empty protocol is tcp */
	}
	why = addr_port(host, "host", &f->host_addr, &f->host_port);
	if (!why)
		why = addr_port(guest, "guest", &f->guest_addr, &f->guest_port);
	if (why)
		return why;
	net = ntohl(f->guest_addr);
	if (f->guest_addr && ((net & 0xffffff00) != 0x0a000200 || (net & 0xff) == 0 ||
			      (net & 0xff) == 255))
		return "the guest address must be in the guest network 10.0.2.0/24";
	return NULL;
}

/* Two forwards that would listen on the same host port. */
static bool hostfwd_clash(const struct slirp_hostfwd *a, const struct slirp_hostfwd *b)
{
	return a->udp == b->udp && a->host_port == b->host_port &&
	       (a->host_addr == b->host_addr || !a->host_addr || !b->host_addr);
}

_Static_assert(SLIRP_MAX_HOSTFWD == 16 && NET_MAX_QUEUE_PAIRS == 8,
	       "the messages of nic_option() name these limits");

/* One ",KEY=VALUE" of --net; the first word (tap=NAME or user) is already parsed. */
static const char *nic_option(struct hv_nic *n, const char *opt, size_t len)
{
	unsigned long v;
	char val[32];
	unsigned int i;

	if (len > 4 && !strncmp(opt, "mac=", 4)) {
		if (n->mac_set)
			return "mac= is given twice";
		if (len - 4 >= sizeof(val))
			return "not a MAC address (give six hex bytes, e.g. ba:ad:00:ca:fe:02)";
		memcpy(val, opt + 4, len - 4);
		val[len - 4] = '\0';
		n->mac_set = true;
		return mac_problem(val, n->mac);
	}
	if (n->kind == HV_NIC_TAP && len > 7 && !strncmp(opt, "queues=", 7)) {
		if (len - 7 >= sizeof(val))
			return "queues= takes 1 to 8";
		memcpy(val, opt + 7, len - 7);
		val[len - 7] = '\0';
		if (options_parse_uint(val, NET_MAX_QUEUE_PAIRS, &v) || v == 0)
			return "queues= takes 1 to 8";
		n->queues = (unsigned int)v;
		return NULL;
	}
	if (n->kind == HV_NIC_USER && len > 8 && !strncmp(opt, "hostfwd=", 8)) {
		struct slirp_hostfwd *f = &n->user.fwd[n->user.nr_fwd];
		const char *why;

		if (n->user.nr_fwd == SLIRP_MAX_HOSTFWD)
			return "too many hostfwd= (at most 16)";
		why = parse_hostfwd(opt + 8, len - 8, f);
		if (why)
			return why;
		for (i = 0; i < n->user.nr_fwd; i++)
			if (hostfwd_clash(&n->user.fwd[i], f))
				return "two hostfwd= use the same host port";
		n->user.nr_fwd++;
		return NULL;
	}
	return n->kind == HV_NIC_TAP ? "unknown option (a TAP takes mac= and queues=)"
				     : "unknown option (user takes hostfwd= and mac=)";
}

/* The first word of --net: "tap=NAME" or "user". */
static const char *nic_kind(struct hv_nic *n, const char *word, size_t len)
{
	if (len == 4 && !strncmp(word, "user", 4)) {
		n->kind = HV_NIC_USER;
		n->queues = 1;		/* libslirp is one thread: one queue pair */
		return NULL;
	}
	if (len >= 4 && !strncmp(word, "tap=", 4)) {
		n->kind = HV_NIC_TAP;
		if (len - 4 >= sizeof(n->tap.ifname))
			return "a TAP name is 1 to 15 characters of A-Z a-z 0-9 _ . -";
		memcpy(n->tap.ifname, word + 4, len - 4);
		n->tap.ifname[len - 4] = '\0';
		return tap_name_ok(n->tap.ifname) ? NULL
			: "a TAP name is 1 to 15 characters of A-Z a-z 0-9 _ . -";
	}
	return "give tap=NAME or user";
}

int options_parse_nic(const char *arg, bool tap_short_form, unsigned int index, struct hv_nic *n,
		      char *err, size_t errlen)
{
	const char *opt = arg, *why;
	size_t len;

	memset(n, 0, sizeof(*n));
	if (tap_short_form) {
		n->kind = HV_NIC_TAP;
		if (!tap_name_ok(arg)) {
			snprintf(err, errlen, "-t %s: a TAP name is 1 to 15 characters of "
				 "A-Z a-z 0-9 _ . -", arg);
			return -EINVAL;
		}
		snprintf(n->tap.ifname, sizeof(n->tap.ifname), "%s", arg);
		default_mac(n, index);
		return 0;
	}
	len = strcspn(opt, ",");
	why = nic_kind(n, opt, len);
	if (why) {
		snprintf(err, errlen, "--net %s: %s", arg, why);
		return -EINVAL;
	}
	while (opt[len]) {
		opt += len + 1;
		len = strcspn(opt, ",");
		why = len ? nic_option(n, opt, len) : "an empty option (two commas?)";
		if (why) {
			snprintf(err, errlen, "--net %s: %.*s%s%s", arg, (int)len, opt,
				 len ? ": " : "", why);
			return -EINVAL;
		}
	}
	if (!n->mac_set)
		default_mac(n, index);
	return 0;
}

/* --mac MAC: for the NIC given just before it. */
int options_set_mac(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	struct hv_nic *n = o->nr_nics ? &o->nics[o->nr_nics - 1] : NULL;
	const char *why;

	if (!n) {
		snprintf(err, errlen, "--mac %s: give it after the NIC it is for (-t NAME or --net ...)",
			 arg);
		return -EINVAL;
	}
	if (n->mac_set) {
		snprintf(err, errlen, "--mac %s: NIC %u already has a MAC (mac= or --mac is given "
			 "twice)", arg, o->nr_nics);
		return -EINVAL;
	}
	why = mac_problem(arg, n->mac);
	if (why) {
		default_mac(n, o->nr_nics - 1);	/* mac_problem may have half-written it */
		snprintf(err, errlen, "--mac %s: %s", arg, why);
		return -EINVAL;
	}
	n->mac_set = true;
	return 0;
}

static void nic_label(const struct hv_nic *n, char *buf, size_t len)
{
	snprintf(buf, len, "%s", n->kind == HV_NIC_TAP ? n->tap.ifname : "user");
}

/* Rules between NICs: one TAP once, one MAC once, one host port once. */
int options_check_nics(const struct hv_options *o, char *err, size_t errlen)
{
	unsigned int i, j, k, l;
	char a[16], b[16];

	for (i = 0; i < o->nr_nics; i++) {
		for (j = i + 1; j < o->nr_nics; j++) {
			const struct hv_nic *x = &o->nics[i], *y = &o->nics[j];

			nic_label(x, a, sizeof(a));
			nic_label(y, b, sizeof(b));
			if (x->kind == HV_NIC_TAP && y->kind == HV_NIC_TAP &&
			    !strcmp(x->tap.ifname, y->tap.ifname)) {
				snprintf(err, errlen, "-t %s: the TAP is given twice (NICs %u and %u)",
					 x->tap.ifname, i + 1, j + 1);
				return -EINVAL;
			}
			if (!memcmp(x->mac, y->mac, 6)) {
				snprintf(err, errlen, "NICs %u (%s) and %u (%s) have the same MAC "
					 "%02x:%02x:%02x:%02x:%02x:%02x: give one of them --mac",
					 i + 1, a, j + 1, b, x->mac[0], x->mac[1], x->mac[2],
					 x->mac[3], x->mac[4], x->mac[5]);
				return -EINVAL;
			}
			for (k = 0; k < x->user.nr_fwd; k++) {
				for (l = 0; l < y->user.nr_fwd; l++) {
					if (hostfwd_clash(&x->user.fwd[k], &y->user.fwd[l])) {
						snprintf(err, errlen, "--net user: host port %u is "
							 "forwarded by NICs %u and %u",
							 x->user.fwd[k].host_port, i + 1, j + 1);
						return -EINVAL;
					}
				}
			}
		}
	}
	return 0;
}

/* -t NAME and --net VALUE: one more NIC. */
static int add_nic(struct hv_options *o, const char *arg, bool tap_short_form, char *err,
		   size_t errlen)
{
	if (o->nr_nics == HV_MAX_NICS) {
		snprintf(err, errlen, "%s %s: at most %d NICs", tap_short_form ? "-t" : "--net", arg,
			 HV_MAX_NICS);
		return -EINVAL;
	}
	if (options_parse_nic(arg, tap_short_form, o->nr_nics, &o->nics[o->nr_nics], err, errlen))
		return -EINVAL;
	o->nr_nics++;
	return 0;
}

int options_add_tap(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	return add_nic(o, arg, true, err, errlen);
}

int options_add_net(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	return add_nic(o, arg, false, err, errlen);
}
