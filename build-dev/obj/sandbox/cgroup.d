build-dev/obj/sandbox/cgroup.o: sandbox/cgroup.c sandbox/sandbox.h
sandbox/sandbox.h:
