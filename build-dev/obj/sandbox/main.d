build-dev/obj/sandbox/main.o: sandbox/main.c sandbox/sandbox.h
sandbox/sandbox.h:
