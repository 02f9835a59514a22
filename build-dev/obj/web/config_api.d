build-dev/obj/web/config_api.o: web/config_api.c orchestrator/hardware.h \
 orchestrator/flavors.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h orchestrator/secrets.h orchestrator/space.h \
 web/web.h proxy/http.h orchestrator/podium.h
orchestrator/hardware.h:
orchestrator/flavors.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
orchestrator/secrets.h:
orchestrator/space.h:
web/web.h:
proxy/http.h:
orchestrator/podium.h:
