"""shelfsense camera node: everything that runs on the Raspberry Pi."""
