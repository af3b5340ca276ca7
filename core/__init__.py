"""The shared library at the bottom of the house: it imports no app of the project."""
