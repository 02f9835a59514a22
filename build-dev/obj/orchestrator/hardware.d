build-dev/obj/orchestrator/hardware.o: orchestrator/hardware.c \
 orchestrator/hardware.h orchestrator/flavors.h orchestrator/podium.h \
 proxy/proxy.h proxy/http.h orchestrator/store.h common/log.h \
 orchestrator/space_int.h builder/builder.h proxy/http.h \
 orchestrator/instance.h orchestrator/space.h common/util.h
orchestrator/hardware.h:
orchestrator/flavors.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
common/log.h:
orchestrator/space_int.h:
builder/builder.h:
proxy/http.h:
orchestrator/instance.h:
orchestrator/space.h:
common/util.h:
