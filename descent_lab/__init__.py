"""Descent Lab's glue between the core and its front ends: the shareable setup, exports, CLI."""
