"""Direct georeferencing of single frames: pure math, no file I/O.

- ``camera``: pinhole intrinsics from a Capture's ``CameraInfo`` and Brown distortion.
- ``rotation``: gimbal attitude to rotation matrices (NED), and the grid rotation of UTM.
- ``raycast``: rays to a ground plane or a DEM, with horizon clipping.
- ``footprint``: footprint polygon and GSD of a frame in the target CRS.
"""
