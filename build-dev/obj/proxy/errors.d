build-dev/obj/proxy/errors.o: proxy/errors.c proxy/proxy_int.h \
 /usr/share/include/llhttp/llhttp.h proxy/http.h common/log.h \
 proxy/proxy.h orchestrator/routes.h common/util.h
proxy/proxy_int.h:
/usr/share/include/llhttp/llhttp.h:
proxy/http.h:
common/log.h:
proxy/proxy.h:
orchestrator/routes.h:
common/util.h:
