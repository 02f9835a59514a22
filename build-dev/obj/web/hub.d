build-dev/obj/web/hub.o: web/hub.c builder/builder.h proxy/http.h \
 common/log.h orchestrator/space.h orchestrator/podium.h proxy/proxy.h \
 proxy/http.h orchestrator/store.h common/util.h web/web.h proxy/http.h \
 orchestrator/podium.h
builder/builder.h:
proxy/http.h:
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
