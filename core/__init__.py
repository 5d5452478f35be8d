"""The ground floor: the error tree, atomic writes, the frozen model base and the workspace's path rules.

Every other package imports from here; this package imports nothing of the project.
"""
