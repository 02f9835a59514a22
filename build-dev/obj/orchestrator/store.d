build-dev/obj/orchestrator/store.o: orchestrator/store.c \
 orchestrator/store.h common/log.h common/util.h
orchestrator/store.h:
common/log.h:
common/util.h:
