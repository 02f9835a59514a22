build-dev/obj/web/pages.o: web/pages.c orchestrator/space.h \
 orchestrator/podium.h proxy/proxy.h proxy/http.h orchestrator/store.h \
 common/util.h web/web.h proxy/http.h orchestrator/podium.h
orchestrator/space.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
common/util.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
