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

/* "EPOCH.CRED" as in a ticket: 16 + 1 + 32 hex digits and a NUL. */
static void
claims_text(const ticket_claims *cl, char out[16 + 1 + 2 * TICKET_CRED_BYTES + 1])
{
	snprintf(out, 18, "%016" PRIx64 ".", cl->epoch);
	sodium_bin2hex(out + 17, 2 * TICKET_CRED_BYTES + 1, cl->cred, TICKET_CRED_BYTES);
}

static void
ticket_mac(char kind, const char *sub, int64_t expires, const char *claims,
    unsigned char mac[crypto_auth_BYTES])
{
	char msg[400];
	int n = snprintf(msg, sizeof(msg), "%c\n%s\n%" PRId64 "\n%s", kind, sub, expires, claims);

	crypto_auth(mac, (const unsigned char *)msg, (size_t)n, ticket_key);
}

int
ticket_make(char kind, const char *sub, int ttl, const ticket_claims *cl, char *out, size_t len)
{
	unsigned char mac[crypto_auth_BYTES];
	char claims[16 + 1 + 2 * TICKET_CRED_BYTES + 1];
	int64_t expires = (int64_t)time(NULL) + ttl;
	int n;

	claims_text(cl, claims);
	n = snprintf(out, len, "%" PRId64 ".%s.", expires, claims);
	if (n < 0 || (size_t)n + 2 * crypto_auth_BYTES + 1 > len)
		return -ENOSPC;
	ticket_mac(kind, sub, expires, claims, mac);
	sodium_bin2hex(out + n, len - (size_t)n, mac, sizeof(mac));
	return 0;
}

int
ticket_check(char kind, const char *sub, const char *t, size_t tlen, ticket_claims *cl)
{
	unsigned char want[crypto_auth_BYTES], got[crypto_auth_BYTES];
	char buf[TICKET_MAX], *dot, *claims, *mac, *end;
	long long expires;
	size_t clen = 16 + 1 + 2 * TICKET_CRED_BYTES;

	if (tlen == 0 || tlen >= sizeof(buf))
		return 0;
	memcpy(buf, t, tlen);
	buf[tlen] = '\0';
	/* EXPIRES "." EPOCH(16) "." CRED(32) "." MAC(64) */
	if ((dot = strchr(buf, '.')) == NULL || strlen(dot + 1) != clen + 1 + 2 * sizeof(got))
		return 0;
	*dot = '\0';
	claims = dot + 1;
	mac = claims + clen + 1;
	if (claims[16] != '.' || mac[-1] != '.')
		return 0;
	mac[-1] = '\0';
	expires = strtoll(buf, &end, 10);
	if (*end != '\0' || end == buf || expires < (long long)time(NULL))
		return 0;
	if (sodium_hex2bin(got, sizeof(got), mac, strlen(mac), NULL, NULL, NULL) != 0)
		return 0;
	ticket_mac(kind, sub, (int64_t)expires, claims, want);
	if (crypto_verify_32(want, got) != 0)
		return 0;
	claims[16] = '\0';
	cl->epoch = strtoull(claims, &end, 16);
	return *end == '\0' &&
	    sodium_hex2bin(cl->cred, TICKET_CRED_BYTES, claims + 17, 2 * TICKET_CRED_BYTES, NULL,
	        NULL, NULL) == 0;
}
