/* page.h — building the hub's HTML pages (pages*.c). page_text is the one place
 * where strings become HTML: every user-supplied string goes through it. */
#ifndef PODIUM_PAGE_H
#define PODIUM_PAGE_H

#include <stddef.h>

#include "web/web.h"

typedef struct page {
	char *buf;
	size_t len, cap;
	podium *p;
} page;

void page_raw(page *pg, const char *s);
/* Escaped text (also right inside double-quoted attributes). */
void page_text(page *pg, const char *s);
/* printf into the page, then escaped. */
void page_textf(page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* <!doctype ...> to the end of the top bar: who is signed in, Log out or Sign in. */
void page_begin(page *pg, podium *p, const http_request *r, const char *user, const char *title,
    const char *name);
/* Closes the page and sends it with the pages' security headers (CSP). */
void page_finish(page *pg, http_exchange *x, int status, const http_header *extra, size_t nextra);

/* pages_space.c */
void web_page_space(podium *p, http_exchange *x, space *s, const char *user);
void web_page_logs(podium *p, http_exchange *x, space *s, const char *user);
void web_page_settings(podium *p, http_exchange *x, space *s, const char *user);
/* pages_user.c */
void web_page_new(podium *p, http_exchange *x, const char *user);
void web_page_tokens(podium *p, http_exchange *x, const char *user);
void web_page_admin(podium *p, http_exchange *x, const char *user);

#endif
