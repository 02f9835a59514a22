/* tls_admin.c — HTTPS certificate state for admins: GET /api/admin/tls (the
 * certificate manager's state, proxy/tls.h) and its section of /admin. */
#include <stdlib.h>
#include <time.h>

#include "proxy/tls.h"
#include "web/web_int.h"

static json_t *
tls_state(podium *p)
{
	if (p->tls == NULL)
		return json_pack("{s:s, s:[]}", "mode", "off", "certificates");
	return tls_certs_status(p->tls);
}

void
web_tls_status(web_call *c)
{
	web_json(c->x, 200, tls_state(c->p));
}

/* One row per certificate: host, source, state, expiry, last error. */
void
web_tls_section(page *pg, podium *p)
{
	json_t *j = tls_state(p), *certs = json_object_get(j, "certificates"), *e;
	size_t i;

	page_raw(pg, "<section class=\"panel\" id=\"tls\"><h2>HTTPS certificates</h2>");
	if (p->tls == NULL) {
		page_raw(pg, "<p class=\"muted\">HTTPS is off (config.yaml <code>tls:</code> and "
		    "<code>--https</code>).</p></section>");
		json_decref(j);
		return;
	}
	page_raw(pg, "<table><thead><tr><th scope=\"col\">Host</th><th scope=\"col\">Source</th>"
	    "<th scope=\"col\">State</th><th scope=\"col\">Expires</th><th scope=\"col\">Last error"
	    "</th></tr></thead><tbody>");
	json_array_foreach(certs, i, e) {
		json_t *na = json_object_get(e, "notAfter"), *err = json_object_get(e, "lastError");

		page_raw(pg, "<tr><td>");
		page_text(pg, json_string_value(json_object_get(e, "host")));
		page_raw(pg, "</td><td>");
		page_text(pg, json_string_value(json_object_get(e, "source")));
		page_raw(pg, "</td><td>");
		page_text(pg, json_string_value(json_object_get(e, "state")));
		page_raw(pg, "</td><td>");
		if (json_is_integer(na)) {
			time_t t = (time_t)json_integer_value(na);
			struct tm tm;
			char when[32];

			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
			page_textf(pg, "%s (%.0f days)", when, (double)(t - time(NULL)) / 86400.0);
		}
		page_raw(pg, "</td><td>");
		if (json_is_string(err))
			page_text(pg, json_string_value(err));
		page_raw(pg, "</td></tr>");
	}
	page_raw(pg, "</tbody></table>");
	page_textf(pg, "Names refused (not the hub nor a space): %lld",
	    (long long)json_integer_value(json_object_get(j, "refused")));
	page_raw(pg, "</section>");
	json_decref(j);
}
