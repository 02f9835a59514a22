build-dev/obj/builder/export.o: builder/export.c builder/builder_int.h \
 proxy/http.h
builder/builder_int.h:
proxy/http.h:
