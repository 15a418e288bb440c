"Layer 1, training and understanding: apps, formats, features, the network, training, artifacts, prediction, the model registry."
