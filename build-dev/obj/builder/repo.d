build-dev/obj/builder/repo.o: builder/repo.c builder/builder.h \
 proxy/http.h builder/builder_int.h common/log.h
builder/builder.h:
proxy/http.h:
builder/builder_int.h:
common/log.h:
