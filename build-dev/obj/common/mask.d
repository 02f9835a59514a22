build-dev/obj/common/mask.o: common/mask.c common/mask.h common/util.h
common/mask.h:
common/util.h:
