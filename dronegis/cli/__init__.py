"""The ``dronegis`` command line: one module per subcommand."""
