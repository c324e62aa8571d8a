"""The tutor: a learner's own numbers checked against the engine's, and material to learn from.

Grading an answers file, diagnosing the slip behind a wrong number, worked solutions and exercise
sheets, hand precision and code a learner can run live here. The tutor reads the engine, the
scenario format and the trace format; it never imports the app (tests/test_architecture.py).
"""
