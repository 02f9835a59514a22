build-dev/obj/orchestrator/routes.o: orchestrator/routes.c \
 orchestrator/routes.h common/util.h
orchestrator/routes.h:
common/util.h:
