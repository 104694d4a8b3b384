/* cmocka_inc.h: cmocka needs these headers first, in this order. */
#ifndef TESTS_CMOCKA_INC_H
#define TESTS_CMOCKA_INC_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
