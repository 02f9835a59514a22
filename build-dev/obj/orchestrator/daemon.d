build-dev/obj/orchestrator/daemon.o: orchestrator/daemon.c \
 orchestrator/daemon.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h orchestrator/flavors.h common/log.h \
 orchestrator/routes.h orchestrator/secrets.h orchestrator/space.h \
 common/util.h web/web.h proxy/http.h orchestrator/podium.h
orchestrator/daemon.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
orchestrator/flavors.h:
common/log.h:
orchestrator/routes.h:
orchestrator/secrets.h:
orchestrator/space.h:
common/util.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
