/*
 * The record table a C probe fills for xenshim.cprobe.CProbe.
 *
 * A probe is compiled, never run: gcc -c turns the table into initialised
 * data in the object file, and Java reads it from there. Each record is a
 * name and a number of fixed size, with the name inline (no pointers), so
 * the table needs no relocations and reads the same in a 32-bit and a
 * 64-bit object: 64 bytes of name, NUL-terminated, then a little-endian
 * signed 64-bit value at offset 64; 72 bytes in both ABIs.
 *
 * A probe writes:
 *
 *     #include "xenshim_probe.h"
 *     const struct xenshim_probe_record xenshim_probe[] = {
 *         PROBE("sizeof(struct foo)", sizeof(struct foo))
 *         ...
 *     };
 *
 * A name too long for the array is a compile error (-Werror), not a silent
 * truncation; Java rejects a name without its NUL.
 */
#ifndef XENSHIM_PROBE_H
#define XENSHIM_PROBE_H

#include <stddef.h>

#define XENSHIM_PROBE_NAME_SIZE 64

struct xenshim_probe_record {
    char name[XENSHIM_PROBE_NAME_SIZE];
    long long value;
};

_Static_assert(sizeof(struct xenshim_probe_record) == 72, "a probe record is 72 bytes in every ABI");
_Static_assert(offsetof(struct xenshim_probe_record, value) == 64, "the value follows the name");

/* One record: a name (a string literal) and an integer constant expression. */
#define PROBE(name, value) { name, (long long)(value) },

/* The table CProbe reads, by this symbol name. */
extern const struct xenshim_probe_record xenshim_probe[];

#endif
