"""The `portal` command: the top layer, gathering the generator's and the backend's commands."""
