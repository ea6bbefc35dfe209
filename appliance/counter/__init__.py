"""The counter unit: staff keypad → hub → the counter's LED number board; rating keys."""
