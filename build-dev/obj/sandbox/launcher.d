build-dev/obj/sandbox/launcher.o: sandbox/launcher.c sandbox/sandbox.h
sandbox/sandbox.h:
