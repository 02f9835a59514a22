"""Fixtures of the image tests (issue 23): the offline base image (base.py), the local
Python index (pyindex.py), the egress lab and its fake internet (lab.py,
fake_internet.py), and the spaces and helpers the tests push (spaces.py)."""
