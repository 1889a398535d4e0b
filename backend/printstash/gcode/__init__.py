"""gcode domain."""
