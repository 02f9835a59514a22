/* mask.h — hides secret values in a stream of output (build and app logs).
 *
 * Every exact occurrence of a value becomes "***". Output arrives in reads of
 * any size, so a value may be cut between two reads: the bytes at the end of a
 * read that could still begin a value are held back (the carry) until the next
 * read decides, or until mask_flush at the end of the stream. Nothing else is
 * delayed. With no values the data passes through untouched. */
#ifndef PODIUM_MASK_H
#define PODIUM_MASK_H

#include <stddef.h>

typedef void (*mask_out_cb)(void *arg, const char *data, size_t len);

typedef struct mask {
	char **values;     /* copies, longest first */
	size_t *lens;
	size_t n;
	char *carry;       /* held bytes: a proper prefix of some value */
	size_t carry_len;
} mask;

#define MASK_TEXT "***"

/* Copies the NULL-terminated list (NULL or empty values are skipped). */
void mask_init(mask *m, const char *const *values);
/* Wipes the copies and the carry. */
void mask_free(mask *m);
/* Passes data to out with every value replaced; may hold back a carry. */
void mask_write(mask *m, const char *data, size_t len, mask_out_cb out, void *arg);
/* End of the stream (or a point where nothing may wait): writes the carry. */
void mask_flush(mask *m, mask_out_cb out, void *arg);

#endif
