build-dev/obj/web/logs.o: web/logs.c common/log.h orchestrator/space.h \
 orchestrator/podium.h proxy/proxy.h proxy/http.h orchestrator/store.h \
 common/util.h web/web.h proxy/http.h orchestrator/podium.h
common/log.h:
orchestrator/space.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
common/util.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
