build-dev/obj/web/auth.o: web/auth.c common/log.h common/util.h web/web.h \
 proxy/http.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h
common/log.h:
common/util.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
