build-dev/obj/orchestrator/space.o: orchestrator/space.c \
 orchestrator/space_int.h builder/builder.h proxy/http.h \
 orchestrator/instance.h orchestrator/space.h orchestrator/podium.h \
 proxy/proxy.h proxy/http.h orchestrator/store.h orchestrator/hardware.h \
 orchestrator/flavors.h common/log.h orchestrator/routes.h \
 orchestrator/secrets.h common/util.h
orchestrator/space_int.h:
builder/builder.h:
proxy/http.h:
orchestrator/instance.h:
orchestrator/space.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
orchestrator/hardware.h:
orchestrator/flavors.h:
common/log.h:
orchestrator/routes.h:
orchestrator/secrets.h:
common/util.h:
