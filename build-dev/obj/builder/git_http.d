build-dev/obj/builder/git_http.o: builder/git_http.c builder/builder.h \
 proxy/http.h builder/builder_int.h common/log.h common/util.h
builder/builder.h:
proxy/http.h:
builder/builder_int.h:
common/log.h:
common/util.h:
