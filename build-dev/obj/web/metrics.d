build-dev/obj/web/metrics.o: web/metrics.c orchestrator/space.h \
 orchestrator/podium.h proxy/proxy.h proxy/http.h orchestrator/store.h \
 orchestrator/store.h orchestrator/usage.h common/util.h web/web.h \
 proxy/http.h orchestrator/podium.h
orchestrator/space.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
orchestrator/store.h:
orchestrator/usage.h:
common/util.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
