/* token_scan.c — does a header value hold a podium API token? (routes.h)
 *
 * The proxy never passes one on to an app: an app is untrusted code, and with a
 * visitor's token it could act as that visitor on the hub. Clients put tokens in
 * many places and spellings ("Bearer T " with a trailing space, "Token T", a bare
 * T, Basic with "x:T ", a cookie, a header of the app's own), so the value is
 * searched, not parsed: for the token's shape in the text itself, percent-decoded,
 * and in every long base64 word decoded (standard and URL-safe alphabets). Case
 * is ignored, as an app could fold it back. The shape is enough: a podium token
 * is 48 random hex digits after its tag, which nothing else an app is owed looks
 * like, and a token minted a moment ago (not yet in the proxy's snapshot) is
 * caught as well as any other. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/routes.h"

/* base64 of the 48 hex digits alone is 64 characters: shorter words cannot hold one */
#define B64_MIN 64

/* The shape anywhere in s (n bytes), case folded. */
static int
shape_in(const char *s, size_t n)
{
	static const char *const tags[] = { ROUTE_TOKEN_TAG, ROUTE_TOKEN_TAG_OLD };

	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
			size_t tl = strlen(tags[t]), h = 0;

			if (n - i < tl + ROUTE_TOKEN_HEX || strncasecmp(s + i, tags[t], tl) != 0)
				continue;
			while (h < ROUTE_TOKEN_HEX && isxdigit((unsigned char)s[i + tl + h]))
				h++;
			if (h == ROUTE_TOKEN_HEX)
				return 1;
		}
	}
	return 0;
}

/* %XX decoded into out (at least n bytes); its length. */
static size_t
percent_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b;

		if (s[i] == '%' && i + 2 < n &&
		    sodium_hex2bin(&b, 1, s + i + 1, 2, NULL, NULL, NULL) == 0) {
			out[o++] = (char)b;
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static int
b64_char(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '-' || c == '_';
}

/* The word (n bytes, no padding) decoded in either alphabet holds the shape. A
 * word whose length is 1 mod 4 loses its last character (a stray one). */
static int
b64_word(const char *w, size_t n, unsigned char *buf)
{
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING };
	size_t len;

	if (n % 4 == 1)
		n--;
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++)
		if (sodium_base642bin(buf, n, w, n, NULL, &len, NULL, variants[v]) == 0 &&
		    shape_in((const char *)buf, len))
			return 1;
	return 0;
}

static int
scan(const char *s, size_t n, unsigned char *buf)
{
	if (shape_in(s, n))
		return 1;
	for (size_t i = 0; i < n;) {
		size_t w = 0;

		while (i + w < n && b64_char((unsigned char)s[i + w]))
			w++;
		if (w >= B64_MIN && b64_word(s + i, w, buf))
			return 1;
		i += w > 0 ? w : 1;
	}
	return 0;
}

int
route_value_has_token(const char *value, size_t len)
{
	unsigned char *buf;
	char *dec;
	size_t n;
	int r;

	/* the common case: too short for a token in any spelling */
	if (len < strlen(ROUTE_TOKEN_TAG) + ROUTE_TOKEN_HEX)
		return 0;
	buf = malloc(len + 1);
	dec = malloc(len + 1);
	if (buf == NULL || dec == NULL) {
		free(buf);
		free(dec);
		return 1; /* cannot tell: not for the app */
	}
	r = scan(value, len, buf);
	if (!r && memchr(value, '%', len) != NULL) {
		n = percent_decode(value, len, dec);
		r = scan(dec, n, buf);
	}
	sodium_memzero(buf, len + 1);
	sodium_memzero(dec, len + 1);
	free(buf);
	free(dec);
	return r;
}
