"""Inference: the wire types, the routes and the service that turns features into prices."""
