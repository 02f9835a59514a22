build-dev/obj/orchestrator/main.o: orchestrator/main.c \
 orchestrator/daemon.h orchestrator/podium.h proxy/proxy.h proxy/http.h \
 orchestrator/store.h
orchestrator/daemon.h:
orchestrator/podium.h:
proxy/proxy.h:
proxy/http.h:
orchestrator/store.h:
