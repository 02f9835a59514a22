build-dev/obj/sandbox/init.o: sandbox/init.c sandbox/sandbox.h
sandbox/sandbox.h:
