build-dev/obj/orchestrator/flavors.o: orchestrator/flavors.c \
 orchestrator/flavors.h common/log.h common/util.h
orchestrator/flavors.h:
common/log.h:
common/util.h:
