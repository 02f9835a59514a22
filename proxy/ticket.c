/* ticket.c — see ticket.h. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/ticket.h"

/* written once before the proxy's threads start, then only read */
static unsigned char ticket_key[crypto_auth_KEYBYTES];

void
ticket_init(void)
{
	crypto_auth_keygen(ticket_key);
}

static void
ticket_mac(char kind, const char *sub, int64_t expires, unsigned char mac[crypto_auth_BYTES])
{
	char msg[320];
	int n = snprintf(msg, sizeof(msg), "%c\n%s\n%" PRId64, kind, sub, expires);

	crypto_auth(mac, (const unsigned char *)msg, (size_t)n, ticket_key);
}

int
ticket_make(char kind, const char *sub, int ttl, char *out, size_t len)
{
	unsigned char mac[crypto_auth_BYTES];
	int64_t expires = (int64_t)time(NULL) + ttl;
	int n = snprintf(out, len, "%" PRId64 ".", expires);

	if (n < 0 || (size_t)n + 2 * crypto_auth_BYTES + 1 > len)
		return -ENOSPC;
	ticket_mac(kind, sub, expires, mac);
	sodium_bin2hex(out + n, len - (size_t)n, mac, sizeof(mac));
	return 0;
}

int
ticket_check(char kind, const char *sub, const char *t, size_t tlen)
{
	unsigned char want[crypto_auth_BYTES], got[crypto_auth_BYTES];
	char buf[128], *dot, *end;
	long long expires;

	if (tlen == 0 || tlen >= sizeof(buf))
		return 0;
	memcpy(buf, t, tlen);
	buf[tlen] = '\0';
	dot = strchr(buf, '.');
	if (dot == NULL)
		return 0;
	*dot = '\0';
	expires = strtoll(buf, &end, 10);
	if (*end != '\0' || end == buf || expires < (long long)time(NULL))
		return 0;
	if (sodium_hex2bin(got, sizeof(got), dot + 1, strlen(dot + 1), NULL, NULL, NULL) != 0 ||
	    strlen(dot + 1) != 2 * sizeof(got))
		return 0;
	ticket_mac(kind, sub, (int64_t)expires, want);
	return crypto_verify_32(want, got) == 0;
}
