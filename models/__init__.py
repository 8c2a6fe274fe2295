"""shelfsense models: synthetic shelves, training, export and the shipped detector.

Light on purpose: importing `models` or `models.synth` never imports torch or ultralytics.
"""
