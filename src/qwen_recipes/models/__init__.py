"""Models: loading a base with its adapter, and the prediction engine that decodes them."""
