build-dev/obj/sandbox/privs.o: sandbox/privs.c sandbox/sandbox.h
sandbox/sandbox.h:
