build-dev/obj/proxy/deadline.o: proxy/deadline.c proxy/proxy_int.h \
 /usr/share/include/llhttp/llhttp.h proxy/http.h common/log.h \
 proxy/proxy.h orchestrator/routes.h
proxy/proxy_int.h:
/usr/share/include/llhttp/llhttp.h:
proxy/http.h:
common/log.h:
proxy/proxy.h:
orchestrator/routes.h:
