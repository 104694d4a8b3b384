/* check.h: "hvrun --check", the host check a student runs first. */
#ifndef HV_CHECK_H
#define HV_CHECK_H

#include <stdio.h>

/* Prints one line per item; returns 0 when this host can run hvrun guests, else 1. */
int hv_check(FILE *out);

#endif
