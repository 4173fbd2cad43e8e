"""Hand-built networks computing in superposition."""
