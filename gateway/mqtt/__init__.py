"""MQTT side of the gateway."""
