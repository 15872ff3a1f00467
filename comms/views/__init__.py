"""The comms app's pages: the public status page (``status``)."""
