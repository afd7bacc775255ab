"""The client side of the protocol: a reconnecting connection that mirrors incidents locally."""
