"""Faust application and Kafka wiring around the pipeline core."""
