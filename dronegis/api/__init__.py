"""The HTTP service: create_app(settings) composes the routers."""
