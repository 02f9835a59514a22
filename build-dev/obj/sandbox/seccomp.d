build-dev/obj/sandbox/seccomp.o: sandbox/seccomp.c sandbox/sandbox.h
sandbox/sandbox.h:
