build-dev/obj/orchestrator/usage.o: orchestrator/usage.c \
 orchestrator/usage.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h orchestrator/space_int.h builder/builder.h \
 proxy/http.h orchestrator/instance.h orchestrator/space.h common/util.h
orchestrator/usage.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
orchestrator/space_int.h:
builder/builder.h:
proxy/http.h:
orchestrator/instance.h:
orchestrator/space.h:
common/util.h:
