"""Generators of the small, self-written samples under ``dataset/samples/`` (one module per source).
The files are committed; a test checks that they are exactly what the generators make."""
