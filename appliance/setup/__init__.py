"""Zero-touch set-up: the boot partition's motcua-setup.toml turns a blank card into a unit."""
