build-dev/obj/orchestrator/instance.o: orchestrator/instance.c \
 orchestrator/instance.h common/log.h common/mask.h common/util.h
orchestrator/instance.h:
common/log.h:
common/mask.h:
common/util.h:
