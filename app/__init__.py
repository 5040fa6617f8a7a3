"""The edges: the `passage` command (cli.py), how it prints answers (render.py), and the one
place the object graph is built (wiring.py). Only the edges turn domain errors into messages.
"""
