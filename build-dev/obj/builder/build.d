build-dev/obj/builder/build.o: builder/build.c builder/builder.h \
 proxy/http.h builder/builder_int.h common/log.h common/mask.h \
 common/util.h
builder/builder.h:
proxy/http.h:
builder/builder_int.h:
common/log.h:
common/mask.h:
common/util.h:
