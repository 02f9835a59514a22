build-dev/obj/proxy/loops.o: proxy/loops.c common/log.h proxy/proxy_int.h \
 /usr/share/include/llhttp/llhttp.h proxy/http.h proxy/proxy.h \
 orchestrator/routes.h common/util.h
common/log.h:
proxy/proxy_int.h:
/usr/share/include/llhttp/llhttp.h:
proxy/http.h:
proxy/proxy.h:
orchestrator/routes.h:
common/util.h:
