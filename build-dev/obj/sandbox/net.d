build-dev/obj/sandbox/net.o: sandbox/net.c sandbox/sandbox.h
sandbox/sandbox.h:
