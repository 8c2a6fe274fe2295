"""The gateway's configuration: settings file, layouts, version."""
