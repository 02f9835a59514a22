build-dev/obj/builder/config.o: builder/config.c builder/builder.h \
 proxy/http.h common/util.h
builder/builder.h:
proxy/http.h:
common/util.h:
