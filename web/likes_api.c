/* likes_api.c — likes, as the Hub has them (huggingface_hub like/unlike):
 *
 *   POST   /api/spaces/{o}/{n}/like   → {"likes": N, "liked": true}
 *   DELETE /api/spaces/{o}/{n}/like   → {"likes": N, "liked": false}
 *
 * Any signed-in user who can see the space, once each; the count is in the
 * space's JSON ("likes"), on the gallery's cards, and the gallery sorts by it. */
#include <errno.h>
#include <string.h>

#include "orchestrator/space.h"
#include "web/web_int.h"

void
web_like(web_call *c)
{
	int like = strcmp(c->r->method, "POST") == 0;
	int r;

	if (c->user == NULL) {
		web_json_unauthorized(c->x, "sign in to like a space: send Authorization: Bearer TOKEN");
		return;
	}
	r = space_like(c->s, c->user, like);
	if (r != 0) {
		web_json_error(c->x, r == -ENOENT ? 403 : 500, "cannot %s %s/%s", like ? "like" : "unlike",
		    space_owner(c->s), space_name(c->s));
		return;
	}
	web_json(c->x, 200, json_pack("{s:I, s:b}", "likes", (json_int_t)space_likes(c->s),
	    "liked", like));
}
