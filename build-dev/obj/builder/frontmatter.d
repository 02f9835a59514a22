build-dev/obj/builder/frontmatter.o: builder/frontmatter.c \
 builder/builder.h proxy/http.h
builder/builder.h:
proxy/http.h:
