"""Tests of the OpenText Content Server connector and emulator."""
