/*
 * options_priv.h: inside hv/options*.c: the table of options, and the
 * helpers its files share (the unit tests read the table too).
 */
#ifndef HV_OPTIONS_PRIV_H
#define HV_OPTIONS_PRIV_H

#include <stddef.h>

#include "hv/options.h"

/* How an option's value reaches struct hv_options. */
enum hv_option_kind {
	OPTION_CALL,		/* .apply(value, o, err, errlen) checks and stores it */
	OPTION_FLAG,		/* no value: sets the bool at .field to true */
	OPTION_STRING,		/* keeps the value in the const char * at .field */
	OPTION_FILE,		/* the same, once it names a readable regular file */
};

/*
 * One command-line option, the only place it is defined: options.c derives
 * getopt_long()'s tables, the dispatch and --help from the rows.
 */
struct hv_option {
	const char *name;	/* --name */
	char short_name;	/* -x, or 0 for none */
	const char *arg;	/* the value's name in --help; NULL: the option takes no value */
	const char *help;	/* its --help text, each line ending in "\n" */
	const char *arg2;	/* a second form with its own text (--net tap=.., --net user..) */
	const char *help2;
	const char *heading;	/* this row starts a section of --help: its title */
	enum hv_option_kind kind;
	size_t field;		/* FLAG, STRING, FILE: offsetof() the field in struct hv_options */
	int (*apply)(const char *arg, struct hv_options *o, char *err, size_t errlen);	/* CALL */
	/* --help's layout where it differs from the usual (kept byte for byte): */
	bool help_flush;	/* "  --demo", not "      --demo", as --help has always shown them */
	unsigned char help_column;	/* the text's first line starts here, not at 22 */
};

/* The rows, in --help's order, ended by a row whose name is NULL. */
extern const struct hv_option options_table[];

/* "123" -> 123 if <= max: digits only, no sign, no space.  0 or -EINVAL. */
int options_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* options_nic.c: -t NAME, --net VALUE (one more NIC each), --mac MAC (for the NIC before it). */
int options_add_tap(const char *arg, struct hv_options *o, char *err, size_t errlen);
int options_add_net(const char *arg, struct hv_options *o, char *err, size_t errlen);
int options_set_mac(const char *arg, struct hv_options *o, char *err, size_t errlen);

/* Rules between NICs, once all are parsed: one TAP once, one MAC once, one host port once. */
int options_check_nics(const struct hv_options *o, char *err, size_t errlen);

#endif
