"""A 2-2-2 sigmoid network on two samples, explicit weights: the tutor tests' scenario."""

TWO_TWO_TWO = """
[scenario]
name = "2-2-2 sigmoid"
[network]
layers = [2, 2, 2]
activation = "sigmoid"
[init]
method = "explicit"
weights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
biases = [[0.35, 0.35], [0.60, 0.60]]
[data]
inputs = [[0.05, 0.10], [0.3, -0.2]]
targets = [[0.01, 0.99], [0.5, 0.2]]
[training]
loss = "half_sse"
learning_rate = 0.5
batch = "full"
"""
