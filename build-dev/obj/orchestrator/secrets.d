build-dev/obj/orchestrator/secrets.o: orchestrator/secrets.c \
 orchestrator/secrets.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h common/log.h orchestrator/space_int.h \
 builder/builder.h proxy/http.h orchestrator/instance.h \
 orchestrator/space.h common/util.h
orchestrator/secrets.h:
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
