"""Training, manifests and loading of the model artifacts."""
