build-dev/obj/sandbox/mount.o: sandbox/mount.c sandbox/sandbox.h
sandbox/sandbox.h:
